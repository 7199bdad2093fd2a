/**
 * `collect-db-position`: read the source's current replication position. Positions of past times
 * would need a binlog/WAL scan by time; those are refused with a clear reason rather than guessed.
 */
import { randomUUID } from 'node:crypto';
import { openEngine } from '../engines/index.js';
import { InvalidParameterError } from '../errors.js';
import { getJob, mutateJob, type JobDeps } from '../job/commands.js';
import type { AsyncQuery } from '../job/job.js';
import { formatPosition } from '../job/positions.js';
import type { Open } from './checks.js';
import { endpointConfig } from './context.js';

/** `yyyy-MM-dd HH:mm:ss` (UTC, as the SDK documents) or ISO. */
export function parsePositionTime(s: string): number {
  const t = Date.parse(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(s) ? s.replace(' ', 'T') + 'Z' : s);
  if (!Number.isFinite(t)) throw new InvalidParameterError('reset_position_time', 'must be "yyyy-MM-dd HH:mm:ss" (UTC) or an ISO 8601 time');
  return t;
}

export async function collectPosition(projectId: string, jobId: string, at: string, deps: JobDeps, open: Open = openEngine): Promise<AsyncQuery<{ position: string }>> {
  const when = parsePositionTime(at);
  const job = await getJob(projectId, jobId, deps);
  const q: AsyncQuery<{ position: string }> = { id: randomUUID(), status: 'pending', createdAt: Date.now() };
  if (when < Date.now() - 60_000) {
    Object.assign(q, { status: 'failed', error: 'Only the current position can be collected (a time within the last minute); to start from an older position use PUT start-position with a binlog file:position, GTID set or LSN.' });
  } else {
    const source = open(await endpointConfig(job, 'source', deps));
    try {
      Object.assign(q, { status: 'success', result: { position: formatPosition(await source.currentPosition()) } });
    } catch (e) {
      Object.assign(q, { status: 'failed', error: (e as Error).message });
    } finally {
      await source.close().catch(() => undefined);
    }
  }
  q.finishedAt = Date.now();
  await mutateJob(projectId, jobId, deps, (j) => {
    j.positionQuery = q;
    return j;
  });
  return q;
}
