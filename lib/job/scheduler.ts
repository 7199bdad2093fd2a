/**
 * Scheduled starts: jobs in WAITING_FOR_START whose start_time has passed are started. Found
 * through the status index across projects; each start is a versioned write, so two scheduler
 * ticks (or a tick racing a user action) cannot start a job twice.
 */
import { logger } from '../logger.js';
import { startIfDue, type JobDeps } from './commands.js';

export async function startDueJobs(deps: JobDeps, now = Date.now()): Promise<{ started: string[] }> {
  const waiting = await deps.jobs.listByStatus('WAITING_FOR_START');
  const started: string[] = [];
  for (const job of waiting) {
    if ((job.startTime ?? 0) > now) continue;
    try {
      if (await startIfDue(job.projectId, job.id, deps)) started.push(job.id);
    } catch (error) {
      logger.warn('scheduled start failed', { jobId: job.id, error });
    }
  }
  return { started };
}
