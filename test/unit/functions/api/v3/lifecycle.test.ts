/**
 * v3 lifecycle batches: precheck and its result, start (now / scheduled), pause, retry,
 * terminate / force_terminate / delete, with per-item errors and the seed's status codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as precheck } from '../../../../../functions/api/v3/batch-check-jobs.js';
import { handler as precheckResult } from '../../../../../functions/api/v3/batch-check-results.js';
import { handler as remove } from '../../../../../functions/api/v3/batch-delete-jobs.js';
import { handler as retry } from '../../../../../functions/api/v3/batch-restore-task.js';
import { handler as start } from '../../../../../functions/api/v3/batch-start-jobs.js';
import { handler as pause } from '../../../../../functions/api/v3/batch-stop-jobs.js';
import { handler as status } from '../../../../../functions/api/v3/batch-list-job-status.js';
import type { PrecheckRun } from '../../../../../lib/job/job.js';
import { drain } from '../../../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../../../helpers/local.js';
import { MISSING, results, v3 } from './helpers.js';

type H = (e: never, c: never) => Promise<unknown>;
let svc: LocalService;
let api: ReturnType<typeof v3>;
beforeAll(async () => {
  // Runs started here reach no database (port 1): let their retries give up quickly.
  process.env.DRS_LOCAL_FAST_RETRY = '10';
  svc = await startLocal({ http: false });
  api = v3(svc.cred);
});
afterAll(async () => {
  await drain();
  await svc.stop();
  delete process.env.DRS_LOCAL_FAST_RETRY;
});

const passed = (configVersion: number): PrecheckRun => ({ id: 'q1', mode: 'forStartJob', status: 'success', createdAt: Date.now(), finishedAt: Date.now(), results: [{ item: 'srcDbConnection', group: 'network', result: 'passed' }], skipped: [], passed: true, configVersion });

describe('batch-precheck and batch-precheck-result', () => {
  it('runs the precheck in the workflow; the result is polled by job id until process is 100%', async () => {
    const id = await api.job();
    const res = await api.send(precheck as H, 'POST', '/jobs/batch-precheck', { jobs: [{ job_id: id, precheck_mode: 'forStartJob' }] });
    expect(res).toMatchObject({ status: 200, body: { count: 1, results: [{ id, precheck_id: id, status: 'success', error_code: '' }] } });
    await drain();
    const r = await api.send(precheckResult as H, 'POST', '/jobs/batch-precheck-result', { jobs: [id] });
    expect(r.status).toBe(200);
    const item = results(r)[0] as { precheck_id: string; result: boolean; process: string; total_passed_rate: string; precheck_result: { item: string; result: string }[]; error_code: string };
    // the fake endpoints (port 1) cannot be reached: the precheck finished and did not pass
    expect(item).toMatchObject({ precheck_id: id, result: false, process: '100%', error_code: '' });
    expect(item.total_passed_rate).not.toBe('100%');
    expect(item.precheck_result.find((x) => x.item === 'srcDbConnection')).toMatchObject({ result: 'FAILED' });
  });

  it('answers 100% / result true for a passed precheck, and per-item errors for unknown jobs and jobs never prechecked', async () => {
    const id = await api.job();
    await api.force(id, 'CONFIGURATION', { precheck: passed((await api.get(id)).configVersion) });
    const never = await api.job();
    const r = await api.send(precheckResult as H, 'POST', '/jobs/batch-precheck-result', { jobs: [id, never, MISSING] });
    expect(r.status).toBe(200);
    expect(results(r)[0]).toMatchObject({ precheck_id: id, result: true, process: '100%', total_passed_rate: '100%' });
    expect(results(r).slice(1).map((x) => x.error_code)).toEqual(['DRS.M00304', 'DRS.M00289']);
    const dup = await api.send(precheckResult as H, 'POST', '/jobs/batch-precheck-result', { jobs: [id, id] });
    expect(dup).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
  });

  it('refuses a precheck in the wrong status per item and a bad mode with 400', async () => {
    const id = await api.job();
    await api.force(id, 'FULL_TRANSFER_STARTED');
    const res = await api.send(precheck as H, 'POST', '/jobs/batch-precheck', { jobs: [{ job_id: id, precheck_mode: 'forStartJob' }] });
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.M00304', results: [{ id, status: 'failed', error_code: 'DRS.M00304' }] } });
    const bad = await api.send(precheck as H, 'POST', '/jobs/batch-precheck', { jobs: [{ job_id: id, precheck_mode: 'forResetJob' }] });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(bad.body.error_msg).toContain('precheck_mode');
  });
});

describe('batch-starting, batch-pause-task, batch-retry-task', () => {
  it('refuses start before a passed precheck, naming the status', async () => {
    const id = await api.job();
    const before = await api.snapshot();
    const res = await api.send(start as H, 'POST', '/jobs/batch-starting', { jobs: [{ job_id: id }] });
    expect(res).toMatchObject({ status: 400, body: { results: [{ id, status: 'failed', error_code: 'DRS.M00304' }] } });
    expect(String(results(res)[0].error_msg)).toContain('CONFIGURATION');
    expect(await api.snapshot()).toBe(before);
  });

  it('schedules a start at start_time (epoch ms string): WAITING_FOR_START, 202', async () => {
    const id = await api.job();
    await api.force(id, 'CONFIGURATION', { precheck: passed((await api.get(id)).configVersion) });
    const at = Date.now() + 3_600_000;
    const res = await api.send(start as H, 'POST', '/jobs/batch-starting', { jobs: [{ job_id: id, start_time: String(at) }, { job_id: MISSING, start_time: '' }] });
    expect(res).toMatchObject({ status: 202, body: { count: 2, results: [{ id, status: 'success' }, { id: MISSING, status: 'failed', error_code: 'DRS.M00289' }] } });
    expect(await api.get(id)).toMatchObject({ status: 'WAITING_FOR_START', startTime: at });
    const bad = await api.send(start as H, 'POST', '/jobs/batch-starting', { jobs: [{ job_id: id, start_time: 'tomorrow' }] });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(bad.body.error_msg).toContain('start_time');
  });

  it('pauses a running job (PAUSING), refuses pausing it again, and retries it', async () => {
    const id = await api.job();
    await api.force(id, 'FULL_TRANSFER_STARTED');
    const p = await api.send(pause as H, 'POST', '/jobs/batch-pause-task', { jobs: [{ job_id: id, pause_mode: 'target' }] });
    expect(p).toMatchObject({ status: 200, body: { results: [{ id, status: 'success' }] } });
    const s = await api.send(status as H, 'POST', '/jobs/batch-status', { jobs: [id] });
    expect(results(s)[0]).toMatchObject({ status: 'PAUSING', error_code: '' });
    const again = await api.send(pause as H, 'POST', '/jobs/batch-pause-task', { jobs: [{ job_id: id, pause_mode: 'all' }] });
    expect(again).toMatchObject({ status: 400, body: { results: [{ error_code: 'DRS.M00304' }] } });
    const r = await api.send(retry as H, 'POST', '/jobs/batch-retry-task', { jobs: [{ job_id: id }] });
    expect(r).toMatchObject({ status: 200, body: { results: [{ id, status: 'success' }] } });
    expect((await api.get(id)).status).toBe('FULL_TRANSFER_STARTED');
    await drain();
  });

  it('refuses retry of a job that is neither paused nor failed', async () => {
    const id = await api.job();
    const r = await api.send(retry as H, 'POST', '/jobs/batch-retry-task', { jobs: [{ job_id: id }] });
    expect(r).toMatchObject({ status: 400, body: { results: [{ id, status: 'failed', error_code: 'DRS.M00304' }] } });
  });
});

describe('DELETE batch-jobs', () => {
  it('refuses delete of a running job, force-terminates it to RELEASE_RESOURCE_COMPLETE, then deletes it (202)', async () => {
    const id = await api.job();
    await api.force(id, 'INCRE_TRANSFER_STARTED');
    const early = await api.send(remove as H, 'DELETE', '/jobs/batch-jobs', { jobs: [{ delete_type: 'delete', job_id: id }] });
    expect(early).toMatchObject({ status: 400, body: { results: [{ id, status: 'failed', error_code: 'DRS.M00304' }] } });
    const t = await api.send(remove as H, 'DELETE', '/jobs/batch-jobs', { jobs: [{ delete_type: 'force_terminate', job_id: id }] });
    expect(t).toMatchObject({ status: 202, body: { count: 1, results: [{ id, status: 'success' }] } });
    await drain();
    const s = await api.send(status as H, 'POST', '/jobs/batch-status', { jobs: [id] });
    expect(results(s)[0]).toMatchObject({ status: 'RELEASE_RESOURCE_COMPLETE', error_code: '' });
    const d = await api.send(remove as H, 'DELETE', '/jobs/batch-jobs', { jobs: [{ delete_type: 'delete', job_id: id }, { delete_type: 'delete', job_id: MISSING }] });
    expect(d).toMatchObject({ status: 202, body: { results: [{ id, status: 'success' }, { id: MISSING, status: 'failed', error_code: 'DRS.M00289' }] } });
    const gone = await api.send(status as H, 'POST', '/jobs/batch-status', { jobs: [id] });
    expect(gone).toMatchObject({ status: 400, body: { results: [{ error_code: 'DRS.M00289' }] } });
  });

  it('terminates a configuring job and deletes a job that never started', async () => {
    const a = await api.job();
    const b = await api.job();
    const res = await api.send(remove as H, 'DELETE', '/jobs/batch-jobs', { jobs: [{ delete_type: 'terminate', job_id: a }, { delete_type: 'delete', job_id: b }] });
    expect(res).toMatchObject({ status: 202, body: { results: [{ id: a, status: 'success' }, { id: b, status: 'success' }] } });
    await drain();
    expect((await api.get(a)).status).toBe('RELEASE_RESOURCE_COMPLETE');
  });

  it('refuses an unknown delete_type with 400 and the active/standby rollback per item', async () => {
    const id = await api.job();
    const bad = await api.send(remove as H, 'DELETE', '/jobs/batch-jobs', { jobs: [{ delete_type: 'purge', job_id: id }] });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(bad.body.error_msg).toContain('delete_type');
    const rb = await api.send(remove as H, 'DELETE', '/jobs/batch-jobs', { jobs: [{ delete_type: 'roll_back_upgrade_active_standby', job_id: id }] });
    expect(rb).toMatchObject({ status: 400, body: { results: [{ error_code: 'DRS.M00300' }] } });
  });
});
