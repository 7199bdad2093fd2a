/**
 * The error paths every v3 batch operation shares, walked over all of them: an unknown job id is
 * that item's DRS.M00289 (a 400 with the error on top when it is the only item, as Terraform
 * reads it), a malformed body is a 400 DRS.M00202 naming the field, and neither stores anything.
 * Also: an ended job is refused per item (DRS.M00304) by every operation that changes a job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as changeData } from '../../../../../functions/api/v3/batch-change-data.js';
import { handler as checkJobs } from '../../../../../functions/api/v3/batch-check-jobs.js';
import { handler as checkResults } from '../../../../../functions/api/v3/batch-check-results.js';
import { handler as deleteJobs } from '../../../../../functions/api/v3/batch-delete-jobs.js';
import { handler as details } from '../../../../../functions/api/v3/batch-list-job-details.js';
import { handler as statuses } from '../../../../../functions/api/v3/batch-list-job-status.js';
import { handler as progresses } from '../../../../../functions/api/v3/batch-list-progresses.js';
import { handler as rpos } from '../../../../../functions/api/v3/batch-list-rpos-and-rtos.js';
import { handler as structDetail } from '../../../../../functions/api/v3/batch-list-struct-detail.js';
import { handler as structProcess } from '../../../../../functions/api/v3/batch-list-struct-process.js';
import { handler as resetPwd } from '../../../../../functions/api/v3/batch-reset-password.js';
import { handler as restore } from '../../../../../functions/api/v3/batch-restore-task.js';
import { handler as setDefiner } from '../../../../../functions/api/v3/batch-set-definer.js';
import { handler as setObjects } from '../../../../../functions/api/v3/batch-set-objects.js';
import { handler as setPolicy } from '../../../../../functions/api/v3/batch-set-policy.js';
import { handler as setSmn } from '../../../../../functions/api/v3/batch-set-smn.js';
import { handler as setSpeed } from '../../../../../functions/api/v3/batch-set-speed.js';
import { handler as showParams } from '../../../../../functions/api/v3/batch-show-params.js';
import { handler as startJobs } from '../../../../../functions/api/v3/batch-start-jobs.js';
import { handler as stopJobs } from '../../../../../functions/api/v3/batch-stop-jobs.js';
import { handler as switchover } from '../../../../../functions/api/v3/batch-switchover.js';
import { handler as updateJob } from '../../../../../functions/api/v3/batch-update-job.js';
import { handler as updateUser } from '../../../../../functions/api/v3/batch-update-user.js';
import { handler as clusterConn } from '../../../../../functions/api/v3/batch-validate-clusters-connections.js';
import { handler as conn } from '../../../../../functions/api/v3/batch-validate-connections.js';
import { handler as monitoring } from '../../../../../functions/api/v3/show-monitoring-data.js';
import { drain } from '../../../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../../../helpers/local.js';
import { endpointV3, MISSING, v3 } from './helpers.js';

type H = (e: never, c: never) => Promise<unknown>;
let svc: LocalService;
let api: ReturnType<typeof v3>;
let ended = '';
beforeAll(async () => {
  svc = await startLocal({ http: false });
  api = v3(svc.cred);
  ended = await api.job();
  await api.force(ended, 'RELEASE_RESOURCE_COMPLETE');
});
afterAll(async () => {
  await drain();
  await svc.stop();
});

interface Op {
  name: string;
  handler: unknown;
  method: string;
  route: string;
  params?: Record<string, string>;
  /** A valid body for job `id`. */
  body: (id: string) => unknown;
  /** A malformed body and the field the error must name. */
  bad: [unknown, string];
  /** Refuses an ended job (changes a job that has ended). */
  changes?: boolean;
}

const OPS: Op[] = [
  { name: 'batch-connection', handler: conn, method: 'POST', route: '/jobs/batch-connection', body: (id) => ({ jobs: [{ id, end_point_type: 'so', ...endpointV3() }] }), bad: [{ jobs: [{ id: 'x', db_type: 'mysql', ip: '1.2.3.4', end_point_type: 'xx' }] }, 'end_point_type'], changes: true },
  { name: 'cluster/batch-connection', handler: clusterConn, method: 'POST', route: '/jobs/cluster/batch-connection', body: (id) => ({ jobs: [{ action: 'testConnection', job_id: id, property: JSON.stringify([{ dbtype: 'mysql', ip: '127.0.0.1:1', endpointtype: 'so' }]) }] }), bad: [{ jobs: [{ action: 'connect', job_id: 'x', property: '[]' }] }, 'action'], changes: true },
  { name: 'batch-modification', handler: updateJob, method: 'PUT', route: '/jobs/batch-modification', body: (id) => ({ jobs: [{ job_id: id, description: 'd' }] }), bad: [{ jobs: [{ job_id: 'x', description: 'a<b' }] }, 'description'], changes: true },
  { name: 'batch-select-objects', handler: setObjects, method: 'PUT', route: '/jobs/batch-select-objects', body: (id) => ({ jobs: [{ job_id: id, selected: false }] }), bad: [{ jobs: [{ job_id: 'x', selected: true }] }, 'job'], changes: true },
  { name: 'batch-precheck', handler: checkJobs, method: 'POST', route: '/jobs/batch-precheck', body: (id) => ({ jobs: [{ job_id: id, precheck_mode: 'forStartJob' }] }), bad: [{ jobs: [{ job_id: 'x' }] }, 'precheck_mode'], changes: true },
  { name: 'batch-precheck-result', handler: checkResults, method: 'POST', route: '/jobs/batch-precheck-result', body: (id) => ({ jobs: [id] }), bad: [{ jobs: 'x' }, 'jobs'] },
  { name: 'batch-limit-speed', handler: setSpeed, method: 'PUT', route: '/jobs/batch-limit-speed', body: (id) => ({ speed_limits: [{ job_id: id, speed_limit: [] }] }), bad: [{ speed_limits: [{ job_id: 'x', speed_limit: [{ begin: '01:00', end: '01:59', speed: 'fast' }] }] }, 'speed'], changes: true },
  { name: 'batch-get-params', handler: showParams, method: 'POST', route: '/jobs/batch-get-params', body: (id) => ({ jobs: [id], refresh: '0' }), bad: [{ jobs: ['x'] }, 'refresh'], changes: true },
  { name: 'batch-starting', handler: startJobs, method: 'POST', route: '/jobs/batch-starting', body: (id) => ({ jobs: [{ job_id: id }] }), bad: [{ jobs: [{ job_id: 'x', start_time: 'soon' }] }, 'start_time'], changes: true },
  { name: 'batch-retry-task', handler: restore, method: 'POST', route: '/jobs/batch-retry-task', body: (id) => ({ jobs: [{ job_id: id }] }), bad: [{ jobs: [{ job_id: 'x', is_sync_re_edit: 'yes' }] }, 'is_sync_re_edit'], changes: true },
  { name: 'batch-pause-task', handler: stopJobs, method: 'POST', route: '/jobs/batch-pause-task', body: (id) => ({ jobs: [{ job_id: id, pause_mode: 'all' }] }), bad: [{ jobs: [{ job_id: 'x', pause_mode: 'some' }] }, 'pause_mode'], changes: true },
  { name: 'batch-jobs (terminate)', handler: deleteJobs, method: 'DELETE', route: '/jobs/batch-jobs', body: (id) => ({ jobs: [{ delete_type: 'terminate', job_id: id }] }), bad: [{ jobs: [{ job_id: 'x' }] }, 'delete_type'], changes: true },
  { name: 'batch-modify-pwd', handler: resetPwd, method: 'PUT', route: '/jobs/batch-modify-pwd', body: (id) => ({ jobs: [{ job_id: id, end_point_type: 'so', db_password: 'p' }] }), bad: [{ jobs: [{ job_id: 'x', end_point_type: 'so', db_password: '' }] }, 'db_password'], changes: true },
  { name: 'batch-replace-definer', handler: setDefiner, method: 'POST', route: '/jobs/batch-replace-definer', body: (id) => ({ jobs: [{ job_id: id, replace_definer: false }] }), bad: [{ jobs: [{ job_id: 'x' }] }, 'replace_definer'], changes: true },
  { name: 'batch-set-smn', handler: setSmn, method: 'POST', route: '/jobs/batch-set-smn', body: (id) => ({ jobs: [{ job_id: id, status: 'CONFIGURATION', engine_type: 'mysql' }], alarm_notify_info: { delay_time: 10 } }), bad: [{ jobs: [{ job_id: 'x' }], alarm_notify_info: { delay_time: -1 } }, 'delay_time'], changes: true },
  { name: 'batch-update-user', handler: updateUser, method: 'PUT', route: '/jobs/batch-update-user', body: (id) => ({ jobs: [{ job_id: id, is_set_password: false, is_migrate_user: false }] }), bad: [{ jobs: [{ job_id: 'x', is_set_password: false }] }, 'is_migrate_user'], changes: true },
  { name: 'batch-transformation', handler: changeData, method: 'POST', route: '/jobs/batch-transformation', body: (id) => ({ jobs: [{ job_id: id, object_info: [{ id: 'shop-*-orders' }], transformation_info: { transformation_type: 'contentConditionalFilter', value: 'id > 1' } }] }), bad: [{ jobs: [{ job_id: 'x', object_info: [], transformation_info: { transformation_type: 'contentConditionalFilter', value: 'id > 1' } }] }, 'object_info'], changes: true },
  { name: 'batch-sync-policy', handler: setPolicy, method: 'POST', route: '/jobs/batch-sync-policy', body: (id) => ({ jobs: [{ job_id: id, conflict_policy: 'overwrite' }] }), bad: [{ jobs: [{ job_id: 'x', conflict_policy: 'merge' }] }, 'conflict_policy'], changes: true },
  { name: 'batch-status', handler: statuses, method: 'POST', route: '/jobs/batch-status', body: (id) => ({ jobs: [id] }), bad: [{ jobs: [1] }, 'jobs.0'] },
  { name: 'batch-detail', handler: details, method: 'POST', route: '/jobs/batch-detail', body: (id) => ({ jobs: [id] }), bad: [{ jobs: ['a'], page_req: { cur_page: -1 } }, 'page_req.cur_page'] },
  { name: 'batch-progress', handler: progresses, method: 'POST', route: '/jobs/batch-progress', body: (id) => ({ jobs: [id] }), bad: [{ job: ['a'] }, 'jobs'] },
  { name: 'batch-rpo-and-rto', handler: rpos, method: 'POST', route: '/jobs/batch-rpo-and-rto', body: (id) => ({ jobs: [id] }), bad: [{ jobs: [] }, 'jobs'] },
  { name: 'disaster-recovery-monitoring-data', handler: monitoring, method: 'POST', route: '/jobs/disaster-recovery-monitoring-data', body: (id) => ({ jobs: [id] }), bad: [{ jobs: [''] }, 'jobs.0'] },
  { name: 'batch-struct-process', handler: structProcess, method: 'POST', route: '/jobs/batch-struct-process', body: (id) => ({ jobs: [id] }), bad: [{ jobs: ['a'], extra: 1 }, 'extra'] },
  { name: 'table/batch-struct-detail', handler: structDetail, method: 'POST', route: '/jobs/{type}/batch-struct-detail', params: { type: 'table' }, body: (id) => ({ jobs: [id] }), bad: [{ jobs: ['a'], page_req: { per_page: 500 } }, 'page_req.per_page'] },
  { name: 'batch-switchover', handler: switchover, method: 'POST', route: '/jobs/batch-switchover', body: (id) => ({ jobs: [id] }), bad: [{ jobs: [{}] }, 'jobs.0'], changes: true },
];

describe.each(OPS.map((o) => [o.name, o] as const))('%s', (_name, op) => {
  it('answers an unknown job with the per-item DRS.M00289 (400 when it is the only item), storing nothing', async () => {
    const before = await api.snapshot();
    const res = await api.send(op.handler as H, op.method, op.route, op.body(MISSING), { params: op.params });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error_code).toBe('DRS.M00289');
    const list = (res.body.results ?? res.body.params_list) as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    expect(list[0].error_code).toBe('DRS.M00289');
    expect(JSON.stringify(list[0])).toContain(MISSING);
    expect(await api.snapshot()).toBe(before);
  });

  it('refuses a malformed body with 400 DRS.M00202 naming the field, storing nothing', async () => {
    const before = await api.snapshot();
    const res = await api.send(op.handler as H, op.method, op.route, op.bad[0], { params: op.params });
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(res.body.error_msg).toContain(op.bad[1]);
    expect(await api.snapshot()).toBe(before);
  });

  // Only operations that change a job have an ended job to refuse.
  if (op.changes) it('refuses a job that has ended, per item, naming its status', async () => {
    const before = await api.snapshot();
    const res = await api.send(op.handler as H, op.method, op.route, op.body(ended), { params: op.params });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const item = ((res.body.results ?? res.body.params_list) as Record<string, unknown>[])[0];
    expect(['DRS.M00304', 'DRS.M00202'], JSON.stringify(item)).toContain(item.error_code);
    expect(String(item.error_msg ?? item.error_message)).toMatch(/RELEASE_RESOURCE_COMPLETE|cloudDataGuard/);
    expect(await api.snapshot()).toBe(before);
  });
});
