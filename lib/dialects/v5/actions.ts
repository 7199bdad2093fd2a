/**
 * v5 `POST /jobs/{id}/action` and `POST /jobs/action` (seed 7.6.1 / 7.6.4): action_name → the
 * domain command. Asynchronous actions answer 202 with a query_id; every success carries
 * `status: "success"` (the Terraform provider requires it). Actions that exist only on Huawei's
 * infrastructure answer a clear 400 saying so.
 */
import { z } from 'zod';
import { AppError, InvalidParameterError, NotApplicableError } from '../../errors.js';
import { getJob, pauseJob, requestConnectionTest, requestPrecheck, resetJob, resumeJob, skipPrecheckItems, startJob, terminateJob, type JobDeps } from '../../job/commands.js';
import { Bool, Id, SafeText } from '../../validation.js';
import { EndpointV5, endpointSpecV5, StartTime } from './schemas.js';
import { BaseEndpoint } from '../../connections/connection.js';
import { cancelCompareActionV5, createCompareActionV5 } from './compare.js';

export const ACTION_NAMES = [
  'network', 'precheck', 'start', 'stop', 'restart', 'reset', 'terminate', 'skip_precheck', 'create_compare', 'cancel_compare', 'column_limit',
  'reload_parameters', 'bind_eip', 'unbind_eip', 'set_writable', 'cloud_connection', 'set_readonly', 'diagnosis', 'start_repair', 'stop_repair',
] as const;

const ActionParams = z
  .object({
    endpoints: z.array(EndpointV5.partial({ endpoint: true }).extend({ endpoint: BaseEndpoint.partial().optional() })).max(4).optional(),
    precheck_mode: z.enum(['forStartJob', 'forRetryJob', 'forResetJob']).optional(),
    skip_precheck_info: z.object({ skipped_precheck_list: z.array(SafeText(128)).min(1).max(100), skip_reason: SafeText(1024).min(1) }).strict().optional(),
    pause_mode: z.enum(['target', 'all']).optional(),
    start_time: StartTime.optional(),
    compare_task_param: z.record(z.string().max(64), z.unknown()).optional(),
    is_sync_re_edit: Bool.optional(),
    is_only_init_task: Bool.optional(),
    is_auto_create_compare: Bool.optional(),
    force_delete: Bool.optional(),
    public_ip_config: z.object({ id: SafeText(64), public_ip: SafeText(64), type: z.enum(['master', 'slave']).optional() }).strict().optional(),
  })
  .strict();

export const ActionV5 = z
  .object({
    job_id: Id.optional(),
    action_name: z.enum(ACTION_NAMES),
    action_params: ActionParams.optional(),
    action_parameters: ActionParams.optional(),
  })
  .strict();
export type ActionV5 = z.infer<typeof ActionV5>;

export interface ActionOutcome {
  async: boolean;
  body: { status: 'success'; id: string; name: string; query_id?: string };
}

const NOT_HERE: Record<string, string> = {
  bind_eip: 'this service binds no elastic IPs; it reaches databases by host and port from where it runs',
  unbind_eip: 'this service binds no elastic IPs',
  cloud_connection: 'there is no Huawei Cloud Connect here',
  set_writable: 'the service never sets the target read-only, so there is nothing to lift',
  set_readonly: 'the service does not switch a target database to read-only outside a DR switchover',
  diagnosis: 'one-click diagnosis is a Huawei console feature; read the job log (type=log) instead',
  start_repair: 'data repair is not offered; run a content compare and fix the listed rows',
  stop_repair: 'data repair is not offered',
  column_limit: 'set column filtering in the object selection instead (PUT the job with type db_object: a column with filtered=false is dropped, name renames it); this action is not offered',
  reload_parameters: 'this deployment has no tuning parameters to reload',
};

export async function runActionV5(projectId: string, jobId: string, a: ActionV5, deps: JobDeps): Promise<ActionOutcome> {
  const params = a.action_params ?? a.action_parameters ?? {};
  if (NOT_HERE[a.action_name]) throw new NotApplicableError(`action_name ${a.action_name}`, NOT_HERE[a.action_name]);
  let queryId: string | undefined;
  switch (a.action_name) {
    case 'network': {
      const so = params.endpoints?.find((e) => e.endpoint_role === 'so');
      const ta = params.endpoints?.find((e) => e.endpoint_role === 'ta');
      const override = params.endpoints?.length ? { source: so ? endpointSpecV5(so) : undefined, target: ta ? endpointSpecV5(ta) : undefined } : undefined;
      queryId = (await requestConnectionTest(projectId, jobId, deps, override)).queryId;
      break;
    }
    case 'precheck':
      if (!params.precheck_mode) throw new InvalidParameterError('action_params.precheck_mode', 'is required for precheck');
      queryId = (await requestPrecheck(projectId, jobId, params.precheck_mode, deps)).queryId;
      break;
    case 'skip_precheck':
      if (!params.skip_precheck_info) throw new InvalidParameterError('action_params.skip_precheck_info', 'is required for skip_precheck');
      await skipPrecheckItems(projectId, jobId, params.skip_precheck_info.skipped_precheck_list, params.skip_precheck_info.skip_reason, deps);
      break;
    case 'start':
      await startJob(projectId, jobId, deps, params.start_time);
      break;
    case 'stop':
      await pauseJob(projectId, jobId, deps);
      break;
    case 'restart':
      await resumeJob(projectId, jobId, deps);
      break;
    case 'reset':
      await resetJob(projectId, jobId, deps);
      break;
    case 'terminate':
      await terminateJob(projectId, jobId, deps, params.force_delete === true);
      break;
    case 'create_compare':
      queryId = await createCompareActionV5(projectId, jobId, params.compare_task_param, deps);
      break;
    case 'cancel_compare':
      await cancelCompareActionV5(projectId, jobId, params.compare_task_param, deps);
      break;
  }
  const job = await getJob(projectId, jobId, deps);
  return { async: queryId !== undefined, body: { status: 'success', id: job.id, name: job.name, ...(queryId ? { query_id: queryId } : {}) } };
}

/** Batch: each item independently; failures become per-item results, the call itself succeeds. */
export async function runBatchActionsV5(projectId: string, items: ActionV5[], deps: JobDeps) {
  const jobs = [];
  let anyAsync = false;
  for (const item of items) {
    if (!item.job_id) {
      jobs.push({ id: '', name: '', status: 'Failed', error_code: 'DRS.10020001', error_msg: 'Parameter job_id is null' });
      continue;
    }
    try {
      const out = await runActionV5(projectId, item.job_id, item, deps);
      anyAsync ||= out.async;
      jobs.push({ id: out.body.id, name: out.body.name, status: 'Success', error_code: '', error_msg: '', query_id: out.body.query_id });
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      jobs.push({ id: item.job_id, name: '', status: 'Failed', error_code: e.codes.v5, error_msg: e.message });
    }
  }
  return { anyAsync, jobs };
}
