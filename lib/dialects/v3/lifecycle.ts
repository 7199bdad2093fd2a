/**
 * v3 lifecycle batches (seed 6.1.6, 6.1.7, 6.1.11–6.1.14): precheck and its result, start,
 * retry/resume, pause, terminate/delete. Every item is the same domain command the v5 actions
 * use (requestPrecheck, startJob, resumeJob, pauseJob, terminateJob, deleteJob), so the status
 * rules are the transition table's.
 */
import { z } from 'zod';
import { InvalidParameterError, NotApplicableError } from '../../errors.js';
import type { Reply } from '../../http/envelope.js';
import { deleteJob, getJob, pauseJob, requestPrecheck, resumeJob, startJob, terminateJob, type JobDeps } from '../../job/commands.js';
import type { Job } from '../../job/job.js';
import { InvalidTransitionError } from '../../job/transitions.js';
import { Bool, Id } from '../../validation.js';
import { itemError, runBatch } from './batch.js';
import { precheckResultV3 } from './render.js';

const ok = (id: string) => ({ id, status: 'success', error_code: '', error_msg: '' });
const failed = (id: string, e: Parameters<typeof itemError>[0]) => ({ id, status: 'failed', ...itemError(e) });

export const PrecheckItemV3 = z.object({ job_id: Id, precheck_mode: z.enum(['forStartJob', 'forRetryJob']) }).strict();

/** batch-precheck: the precheck runs in the workflow; its id is the job id (seed example, Terraform polls by job id). */
export async function batchPrecheckV3(projectId: string, items: z.infer<typeof PrecheckItemV3>[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      await requestPrecheck(projectId, i.job_id, i.precheck_mode, deps);
      return { id: i.job_id, precheck_id: i.job_id, status: 'success', error_code: '', error_msg: '' };
    },
    (i, e) => ({ ...failed(i.job_id, e), precheck_id: '' }),
    { status: 200 },
  );
}

/** The job a precheck id names: the job id itself, or the query id a v5 precheck action returned. */
async function jobOfPrecheck(projectId: string, id: string, deps: JobDeps): Promise<Job> {
  const direct = await deps.jobs.get(projectId, id);
  if (direct) return direct;
  const summary = (await deps.jobs.listSummaries(projectId)).find((j) => j.precheckId === id);
  const byQuery = summary ? await deps.jobs.get(projectId, summary.id) : undefined;
  return byQuery ?? getJob(projectId, id, deps);
}

export async function batchPrecheckResultV3(projectId: string, ids: string[], deps: JobDeps): Promise<Reply> {
  if (new Set(ids).size !== ids.length) throw new InvalidParameterError('jobs', 'must not contain duplicates');
  return runBatch(
    ids,
    async (id) => {
      const job = await jobOfPrecheck(projectId, id, deps);
      if (!job.precheck) throw new InvalidTransitionError(job.id, job.status, 'query the precheck result before a precheck was submitted (batch-precheck)');
      return precheckResultV3(job);
    },
    (id, e) => ({ precheck_id: id, result: false, process: '', total_passed_rate: '', ...itemError(e) }),
    { status: 200 },
  );
}

/** `start_time`: epoch ms as a string (SDK StartInfo), empty or "0" = now. */
export const StartTimeV3 = z
  .union([z.string().max(20), z.number().int().nonnegative()])
  .transform((v, ctx) => {
    const s = String(v).trim();
    if (s === '' || s === '0') return undefined;
    if (!/^\d{10,16}$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: 'must be an epoch time in milliseconds, e.g. 1679966489593' });
      return z.NEVER;
    }
    return Number(s);
  });

export const StartItemV3 = z.object({ job_id: Id, start_time: StartTimeV3.optional(), is_only_init_task: Bool.optional(), is_auto_create_compare: Bool.optional() }).strict();

export async function batchStartV3(projectId: string, items: z.infer<typeof StartItemV3>[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      if (i.is_only_init_task) throw new NotApplicableError('is_only_init_task', 'an initialization-only job is a whitelisted Huawei feature; start the job normally');
      const job = await startJob(projectId, i.job_id, deps, i.start_time);
      return ok(job.id);
    },
    (i, e) => failed(i.job_id, e),
    { status: 202 },
  );
}

export const RetryItemV3 = z.object({ job_id: Id, is_sync_re_edit: Bool.optional() }).strict();

export async function batchRetryV3(projectId: string, items: z.infer<typeof RetryItemV3>[], deps: JobDeps): Promise<Reply> {
  return runBatch(items, async (i) => ok((await resumeJob(projectId, i.job_id, deps)).id), (i, e) => failed(i.job_id, e), { status: 200 });
}

/**
 * `pause_mode` target (stop replay) and all (stop capture and replay): a paused job here stops
 * both, since capture runs in the same loop as replay; resuming continues from the applied
 * position, so nothing captured is lost either way.
 */
export const PauseItemV3 = z.object({ job_id: Id, pause_mode: z.enum(['target', 'all']).optional() }).strict();

export async function batchPauseV3(projectId: string, items: z.infer<typeof PauseItemV3>[], deps: JobDeps): Promise<Reply> {
  return runBatch(items, async (i) => ok((await pauseJob(projectId, i.job_id, deps)).id), (i, e) => failed(i.job_id, e), { status: 200 });
}

export const DeleteItemV3 = z
  .object({
    delete_type: z.enum(['terminate', 'force_terminate', 'delete', 'roll_back_upgrade_active_standby']),
    job_id: Id,
    is_show_breakpoint_position: Bool.optional(),
    is_show_break_point_position: Bool.optional(),
  })
  .strict();

/** DELETE batch-jobs (JSON body): terminate, force_terminate (ends even if the release fails), delete. */
export async function batchDeleteV3(projectId: string, items: z.infer<typeof DeleteItemV3>[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      switch (i.delete_type) {
        case 'terminate':
          await terminateJob(projectId, i.job_id, deps, false);
          break;
        case 'force_terminate':
          await terminateJob(projectId, i.job_id, deps, true);
          break;
        case 'delete':
          await deleteJob(projectId, i.job_id, deps);
          break;
        case 'roll_back_upgrade_active_standby':
          throw new NotApplicableError('delete_type roll_back_upgrade_active_standby', 'there is no active/standby replication instance to roll back');
      }
      return ok(i.job_id);
    },
    (i, e) => failed(i.job_id, e),
    { status: 202 },
  );
}
