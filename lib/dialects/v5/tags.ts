/** v5 tag management (seed 7.11, the `jobs/` variants): tags live on the job. */
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import { getJob, JOB_NOT_FOUND, type JobDeps } from '../../job/commands.js';
import type { Job } from '../../job/job.js';

export const ResourceType = z.enum(['migration', 'sync', 'cloudDataGuard', 'subscription', 'backupMigration', 'replay']);
/** TMS tag keys: 1–128 letters, digits, space and `_.:=+-@`, no surrounding space, not `_sys_…`. */
export const TagKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\p{L}\p{N}_.:=+\-@]([\p{L}\p{N} _.:=+\-@]*[\p{L}\p{N}_.:=+\-@])?$/u, 'must be letters, digits, spaces or _.:=+-@, without leading or trailing spaces')
  .refine((k) => !k.startsWith('_sys_'), 'keys starting with _sys_ are reserved');
export const TagValue = z.string().max(255).regex(/^[\p{L}\p{N} _.:=+\-@/]*$/u, 'must be letters, digits, spaces or _.:=+-@/');

/** The job, if it is of the path's resource type; otherwise it does not exist for this path. */
export async function jobOfType(projectId: string, id: string, type: string, deps: Pick<JobDeps, 'jobs'>): Promise<Job> {
  const job = await getJob(projectId, id, deps);
  if (job.jobType !== type) throw new NotFoundError('job', id, JOB_NOT_FOUND);
  return job;
}

export async function projectTags(projectId: string, type: string, deps: Pick<JobDeps, 'jobs'>): Promise<{ key: string; values: string[] }[]> {
  const byKey = new Map<string, Set<string>>();
  for (const s of await deps.jobs.listSummaries(projectId)) {
    if (s.jobType !== type) continue;
    for (const t of s.tags) byKey.set(t.key, (byKey.get(t.key) ?? new Set()).add(t.value));
  }
  return [...byKey].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, values]) => ({ key, values: [...values].sort() }));
}
