/**
 * The local runtime's stand-ins for what AWS keeps running by itself: schedule events of
 * serverless.yml (`schedule: rate(...)`) run on timers, and work interrupted by a crash of this
 * process (Step Functions executions survive a crash on AWS; here they live in memory: job runs,
 * connection tests, prechecks, compares) is started again from its checkpoints when the runtime
 * comes back.
 */
import { recoverCompares } from '../compare/commands.js';
import { recoverJob, type JobDeps } from '../job/commands.js';
import { compareStore } from '../store/compare-store.js';
import { ACTIVE_STATUSES } from '../job/transitions.js';
import { logger } from '../logger.js';
import { invoke } from './lambda.js';
import { functionDefs, readServerlessYml } from './routes.js';

export function rateMs(expr: string): number | undefined {
  const m = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expr.trim());
  if (!m) return undefined;
  const unit = m[2].startsWith('minute') ? 60_000 : m[2].startsWith('hour') ? 3_600_000 : 86_400_000;
  return Number(m[1]) * unit;
}

/** Start a timer per schedule event. `scale` shortens periods (tests). Returns a stop function. */
export function startSchedules(root: string, scale = 1): () => void {
  const defs = functionDefs(root);
  const timers: NodeJS.Timeout[] = [];
  const fns = (readServerlessYml(root).functions ?? {}) as Record<string, { events?: { schedule?: string | { rate: string } }[] }>;
  for (const [name, fn] of Object.entries(fns)) {
    for (const ev of fn.events ?? []) {
      const expr = typeof ev.schedule === 'string' ? ev.schedule : ev.schedule?.rate;
      const ms = expr ? rateMs(expr) : undefined;
      if (!ms) continue;
      const timer = setInterval(() => {
        invoke(defs.get(name)!, { source: 'aws.events', 'detail-type': 'Scheduled Event' }).catch((error) => logger.warn('scheduled function failed', { name, error }));
      }, Math.max(50, ms * scale));
      timer.unref();
      timers.push(timer);
    }
  }
  return () => timers.forEach(clearInterval);
}

/** Restart interrupted work of every project: job runs, pending checks, and compares. */
export async function recoverInterrupted(deps: JobDeps): Promise<number> {
  const seen = new Set<string>();
  let n = 0;
  const compares = { ...deps, compares: compareStore() };
  for (const status of ['INCRE_TRANSFER_STARTED', 'INCRE_TRANSFER_FAILED', 'FULL_TRANSFER_COMPLETE', 'PAUSING'] as const) {
    for (const job of await deps.jobs.listByStatus(status)) {
      try {
        n += await recoverCompares(job.projectId, job.id, compares);
      } catch (error) {
        logger.warn('could not recover compares', { jobId: job.id, error });
      }
    }
  }
  for (const status of [...ACTIVE_STATUSES, 'CREATING', 'CONFIGURATION', 'PAUSING', 'START_JOB_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED'] as const) {
    for (const job of await deps.jobs.listByStatus(status)) {
      if (seen.has(job.id)) continue;
      seen.add(job.id);
      try {
        if (await recoverJob(job.projectId, job.id, deps)) n++;
      } catch (error) {
        logger.warn('could not recover job', { jobId: job.id, error });
      }
    }
  }
  return n;
}
