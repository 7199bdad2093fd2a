/**
 * Synchronization policy (v3 batch-sync-policy): conflict handling, DDL filtering, index
 * replication, and for incremental-only jobs the source position to start from (the same command
 * v5 PUT start-position uses: setStartPosition). A full+incremental job always takes its own
 * position before the full load reads its first row (DESIGN §5 rule 1), so it cannot be given one.
 */
import { setStartPosition, updateJob, getJob, type JobDeps } from './commands.js';
import type { Job, PolicyConfig } from './job.js';
import { assertPolicySupported } from './policy.js';

export { assertPolicySupported };
import { parseLsn, parseMySqlPosition } from './positions.js';

export interface StartPositionInput {
  /** MySQL `binlog-file:position` (PostgreSQL: an LSN). */
  fileAndPosition?: string;
  gtidSet?: string;
}

export async function setSyncPolicy(projectId: string, id: string, policy: PolicyConfig, start: StartPositionInput, deps: JobDeps): Promise<Job> {
  const job = await getJob(projectId, id, deps);
  assertPolicySupported(job, policy);
  if (start.fileAndPosition || start.gtidSet) {
    const position = job.source.dbType === 'postgresql' ? parseLsn(start.fileAndPosition ?? '') : parseMySqlPosition(start.fileAndPosition, start.gtidSet);
    // Validates task type and status before the policy is touched.
    await setStartPosition(projectId, id, position, deps);
  }
  return Object.keys(policy).length ? updateJob(projectId, id, [{ type: 'policy', policy }], deps) : getJob(projectId, id, deps);
}
