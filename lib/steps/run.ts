/**
 * The edges of a run: starting it (status, and the CDC position captured before any row is
 * read: DESIGN §5 rule 1), releasing what it holds when the job ends, and recording a failure.
 */
import { openEngine } from '../engines/index.js';
import { getJob, mutateJob, type JobDeps } from '../job/commands.js';
import type { RunPhase } from '../job/job.js';
import { assertTransition, canTransition, type JobStatus } from '../job/transitions.js';
import type { WorkflowMode } from '../workflow/workflow.js';
import type { Open } from './checks.js';
import type { CdcPosition, CdcSource } from '../engines/engine.js';
import { cdcName, releaseCdc } from './cdc.js';
import { notifyJobEvent } from '../job/notify.js';
import { currentRun, endpointConfig, log, type RunInput } from './context.js';
import { resolveSelection, jobObjects } from './selection.js';
import { lsnValue } from '../job/positions.js';
import { createDeferredObjects } from './objects.js';

/** How long an ended job waits before creating triggers: the stopping sync task may still be committing its last batch. */
const triggerGraceMs = () => Number(process.env.DRS_TRIGGER_GRACE_MS ?? 5_000);

export interface StartResult {
  stop: boolean;
  phase: RunPhase;
}

/** Step 1/5: enter the running status of the phase to (re)start, capturing the CDC start position. */
export async function startRun(input: RunInput, deps: JobDeps, open: Open = openEngine): Promise<StartResult> {
  const job = await currentRun(input, deps);
  if (!job) return { stop: true, phase: 'done' };
  const needsCdc = job.taskType !== 'FULL_TRANS';
  let position = job.run!.startPosition;
  if (job.echo.releasePosition) {
    // A reset: the previous run's slot goes before the new one is created.
    await releaseCdc(job, deps, job.echo.releasePosition as typeof position, open);
  }
  if (needsCdc && !position) {
    const configured = job.configuredStartPosition;
    if (configured?.kind === 'mysql') {
      // INCR_TRANS from a user-given binlog position or GTID set (PUT start-position).
      position = configured;
    } else {
      // Rule 1: the change position (PostgreSQL: the slot) exists before the first row is read.
      const source = open(await endpointConfig(job, 'source', deps)) as ReturnType<Open> & CdcSource;
      try {
        const tables = resolveSelection(job.dbObject, jobObjects(job.source, await source.listObjects())).map((m) => m.source);
        position = await source.prepareCdc(cdcName(job), tables);
      } finally {
        await source.close().catch(() => undefined);
      }
      if (configured?.kind === 'postgresql' && position.kind === 'postgresql') {
        // A slot cannot go back in time: a later LSN skips ahead, an earlier one is refused.
        if (lsnValue(configured.lsn) < lsnValue(position.lsn)) {
          throw Object.assign(new Error(`The start LSN ${configured.lsn} is older than what the replication slot retains (${position.lsn}).`), { name: 'InvalidStartPositionError' });
        }
        position = { ...position, lsn: configured.lsn };
      }
    }
  }
  const saved = await mutateJob(job.projectId, job.id, deps, (j) => {
    if (j.run?.runId !== input.runId) return j;
    if (position && !j.run.startPosition) j.run.startPosition = position;
    delete j.echo.releasePosition;
    if (j.status === 'STARTJOBING') {
      const incrementalOnly = j.taskType === 'INCR_TRANS';
      const to: JobStatus = incrementalOnly || j.run.phase === 'incremental' ? 'INCRE_TRANSFER_STARTED' : 'FULL_TRANSFER_STARTED';
      assertTransition(j.id, j.status, to, 'start');
      j.status = to;
      if (incrementalOnly) {
        j.run.phase = 'incremental';
        j.run.incrementalStartedAt ??= Date.now();
        j.run.cdc ??= { lagMillis: 0, eventsPerSecond: 0, eventsApplied: 0, transactionsApplied: 0, updatedAt: Date.now() };
      }
      else if (j.run.phase === 'schema' || j.run.phase === 'done') j.run.phase = 'full';
    } else if (j.status === 'FULL_TRANSFER_STARTED' && j.run.phase === 'schema') {
      j.run.phase = 'full';
    }
    return j;
  });
  if (saved.run?.runId !== input.runId) return { stop: true, phase: 'done' };
  await log(deps, saved, `step 1/5 run ${input.runId} started in phase ${saved.run.phase}${position ? `; CDC starts at ${JSON.stringify(position)}` : ''}`);
  return { stop: false, phase: saved.run.phase };
}

/**
 * Release what the job holds on its databases (the CDC position it no longer needs), then end it.
 * Releasing is idempotent; with force_terminate a failed release still ends the job.
 */
export async function releaseResources(input: RunInput, deps: JobDeps, open: Open = openEngine): Promise<{ released: boolean }> {
  const job = await getJob(input.projectId, input.jobId, deps);
  if (job.status !== 'RELEASE_RESOURCE_STARTED' || job.run?.runId !== input.runId) return { released: false };
  try {
    await releaseCdc(job, deps, job.run?.startPosition, open);
    await releaseCdc(job, deps, job.echo.releasePosition as CdcPosition | undefined, open);
    // Triggers and events of a job with incremental sync: now that no change is applied any more (lib/steps/objects.ts).
    // After the release, so a failure here (recorded per object) never leaves a replication slot behind.
    if (job.taskType === 'FULL_INCR_TRANS' && job.run?.fullLoadCompletedAt) await createDeferredObjects(job, deps, open, { graceMs: triggerGraceMs() });
  } catch (error) {
    if (!job.echo.forceTerminate) throw error;
    await log(deps, job, `release failed but the job was force-terminated: ${(error as Error).message}`, 'WARN');
  }
  await mutateJob(job.projectId, job.id, deps, (j) => {
    if (j.status !== 'RELEASE_RESOURCE_STARTED' || j.run?.runId !== input.runId) return j;
    j.status = 'RELEASE_RESOURCE_COMPLETE';
    if (j.run) j.run.phase = 'done';
    return j;
  });
  await log(deps, job, 'job ended: resources released');
  return { released: true };
}

/** The failure status for the phase a run was in. */
function failedStatus(status: JobStatus): JobStatus | undefined {
  const map: Partial<Record<JobStatus, JobStatus>> = {
    CREATING: 'CREATE_FAILED',
    STARTJOBING: 'START_JOB_FAILED',
    FULL_TRANSFER_STARTED: 'FULL_TRANSFER_FAILED',
    FULL_TRANSFER_COMPLETE: 'FULL_TRANSFER_FAILED',
    INCRE_TRANSFER_STARTED: 'INCRE_TRANSFER_FAILED',
    RELEASE_RESOURCE_STARTED: 'RELEASE_RESOURCE_FAILED',
  };
  return map[status];
}

/** Step Functions' Catch output `{Error, Cause}` → a message a user can read (never a stack). */
export function describeError(error: { Error?: string; Cause?: string } | undefined): { code: string; message: string } {
  let message = error?.Cause ?? error?.Error ?? 'unknown error';
  try {
    const cause = JSON.parse(message) as { errorMessage?: string; message?: string };
    message = cause.errorMessage ?? cause.message ?? message;
  } catch {
    /* Cause was plain text */
  }
  return { code: error?.Error ?? 'Error', message: message.split('\n')[0].slice(0, 1000) };
}

/** Catch → MarkFailed: record the failure on the job (or on the async query that failed). */
export async function markFailed(input: RunInput & { mode: WorkflowMode; error?: { Error?: string; Cause?: string } }, deps: JobDeps): Promise<{ status: string }> {
  const { code, message } = describeError(input.error);
  let failedNow = false;
  const job = await mutateJob(input.projectId, input.jobId, deps, (j) => {
    if (input.mode === 'network' || input.mode === 'precheck') {
      const q = input.mode === 'network' ? j.network : j.precheck;
      if (q?.id === input.runId && q.status === 'pending') Object.assign(q, { status: 'failed', finishedAt: Date.now(), error: message });
      return j;
    }
    if (input.mode !== 'create' && j.run?.runId !== input.runId) return j;
    const to = failedStatus(j.status);
    if (!to || !canTransition(j.status, to)) return j;
    j.status = to;
    j.error = { code: to === 'INCRE_TRANSFER_FAILED' ? 'INCRE_TRANSFER_FAILED' : code, message, at: Date.now() };
    failedNow = true;
    return j;
  });
  await log(deps, job, `${input.mode} failed: ${message}`, 'ERROR');
  if (failedNow) await notifyJobEvent(job, { kind: 'failed', message }, deps).catch(() => false);
  return { status: job.status };
}

export { endpointConfig };
