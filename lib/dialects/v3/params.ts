/**
 * v3 database parameters (seed 6.1.9, 6.1.10) and tuning parameters (6.3.3, SDK
 * QueryTuningParams). Database parameters are real server values compared and changed through
 * lib/job/params.ts. Tuning parameters describe how this deployment copies and applies data; they
 * are reported with their effective values, and are fixed (`availability: "false"`): a change
 * request is refused rather than stored without effect.
 */
import { z } from 'zod';
import { NotApplicableError } from '../../errors.js';
import { reply, type Reply } from '../../http/envelope.js';
import { getJob, type JobDeps } from '../../job/commands.js';
import { compareParams, modifyParams, type ParamsDeps } from '../../job/params.js';
import { MAX_ITERATIONS, SYNC_BUDGET_MS } from '../../steps/cdc.js';
import { parallelism } from '../../steps/context.js';
import { PAGE_ROWS, ROWS_PER_CHUNK } from '../../steps/full-load.js';
import { runBatch, itemError } from './batch.js';

/** `refresh`: "1" re-reads both servers, "0" answers the last comparison (the seed's example sends the number 1). */
export const Refresh = z.union([z.enum(['0', '1']), z.literal(0), z.literal(1)]).transform((v) => String(v) === '1');

export async function batchGetParamsV3(projectId: string, ids: string[], refresh: boolean, deps: ParamsDeps): Promise<Reply> {
  return runBatch(
    ids,
    async (id) => {
      const c = await compareParams(projectId, id, refresh, deps);
      return {
        job_id: id,
        params: c.params.map((p) => ({
          compare_result: String(p.source !== undefined && p.source === p.target),
          data_type: p.dataType,
          group: p.group,
          key: p.key,
          need_restart: String(p.needRestart),
          source_value: p.source ?? '',
          target_value: p.target ?? '',
          value_range: p.range,
          error_code: '',
          error_message: '',
        })),
        error_code: '',
        error_message: '',
      };
    },
    (id, e) => ({ job_id: id, params: [], ...itemError(e, 'error_message') }),
    { status: 202, listKey: 'params_list' },
  );
}

export const ModifyParamsBodyV3 = z
  .object({
    group: z.enum(['common', 'performance']),
    params: z.array(z.object({ key: z.string().min(1).max(64).regex(/^[A-Za-z_]+$/, 'must be a parameter name'), target_value: z.union([z.string().max(1024), z.number()]).transform(String) }).strict()).min(1).max(50),
  })
  .strict();

/** POST /jobs/{job_id}/params: applied on the target now; the answer says whether a restart is needed (never: only dynamic parameters are accepted). */
export async function modifyParamsV3(projectId: string, jobId: string, body: z.infer<typeof ModifyParamsBodyV3>, deps: ParamsDeps): Promise<Reply> {
  await modifyParams(projectId, jobId, body.group, body.params, deps);
  return reply(202, { success: true, should_restart: 'false', error_code: '', error_msg: '' });
}

const param = (param_name: string, param_value: string | number, range = '') => ({ param_name, param_value: String(param_value), availability: 'false', range });

/** GET job/{job_id}/tuning-params/query-params: the effective settings of this job's copy and apply loops. */
export async function tuningParamsV3(projectId: string, jobId: string, deps: Pick<JobDeps, 'jobs'>) {
  const job = await getJob(projectId, jobId, deps);
  return {
    full_sync: [param('parallel_chunk_workers', parallelism(job.nodeType), 'set by node_type: micro 1, small 2, medium 4, high 8, xlarge 16'), param('rows_per_chunk', ROWS_PER_CHUNK), param('rows_per_page', PAGE_ROWS)],
    incre_capture: [param('max_transactions_per_batch', 500), param('max_events_per_batch', 20_000)],
    incre_apply: [param('apply_transaction', 'one target transaction per batch'), param('conflict_policy', job.policy.conflict_policy ?? 'overwrite', 'ignore|overwrite|stop (batch-sync-policy)')],
    incre_relay: [param('task_budget_ms', SYNC_BUDGET_MS), param('iterations_per_execution', MAX_ITERATIONS)],
  };
}

export const ModifyTuningBodyV3 = z
  .object({
    full_sync: z.record(z.string().max(64), z.string().max(256)).optional(),
    incre_capture: z.record(z.string().max(64), z.string().max(256)).optional(),
    incre_apply: z.record(z.string().max(64), z.string().max(256)).optional(),
    incre_relay: z.record(z.string().max(64), z.string().max(256)).optional(),
    recovery: z.boolean().optional(),
  })
  .strict();

/** PUT job/{job_id}/tuning-params/modify-params: refused (the settings are fixed), after checking the job exists. */
export async function modifyTuningParamsV3(projectId: string, jobId: string, deps: Pick<JobDeps, 'jobs'>): Promise<never> {
  await getJob(projectId, jobId, deps);
  throw new NotApplicableError('modifying tuning parameters', 'they are fixed in this deployment (parallelism follows node_type, speed follows batch-limit-speed, conflicts follow batch-sync-policy); read them with query-params');
}
