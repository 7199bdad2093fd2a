/**
 * v3 creation and reads: batch-creation, batch-status, batch-detail, the job list (POST /jobs),
 * batch-progress and quotas, through the handlers with signed events and the in-process runtime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as create } from '../../../../../functions/api/v3/batch-create-jobs.js';
import { handler as detail } from '../../../../../functions/api/v3/batch-list-job-details.js';
import { handler as status } from '../../../../../functions/api/v3/batch-list-job-status.js';
import { handler as progress } from '../../../../../functions/api/v3/batch-list-progresses.js';
import { handler as list } from '../../../../../functions/api/v3/show-job-list.js';
import { handler as quotas } from '../../../../../functions/api/v3/show-quotas.js';
import { makeHandler as makeCreate } from '../../../../../functions/api/v3/batch-create-jobs.js';
import { makeHandler as makeQuotas } from '../../../../../functions/api/v3/show-quotas.js';
import { jobDeps } from '../../../../../lib/job/deps.js';
import { drain } from '../../../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../../../helpers/local.js';
import { createItemV3, FAKE_PASSWORD, MISSING, results, v3 } from './helpers.js';

type H = (e: never, c: never) => Promise<unknown>;
let svc: LocalService;
let api: ReturnType<typeof v3>;
beforeAll(async () => {
  svc = await startLocal({ http: false });
  api = v3(svc.cred);
});
afterAll(async () => {
  await drain();
  await svc.stop();
});

describe('POST /v3/{project_id}/jobs/batch-creation', () => {
  it('answers 202 with CREATING and an epoch-ms string create_time; the job becomes CONFIGURATION', async () => {
    const item = createItemV3({ name: 'v3-first-job', description: 'made by v3' });
    const res = await api.send(create as H, 'POST', '/jobs/batch-creation', { jobs: [item] });
    expect(res.status).toBe(202);
    expect(res.body.count).toBe(1);
    const r = results(res)[0] as { id: string; name: string; status: string; create_time: string; error_code: string };
    expect(r).toMatchObject({ name: 'v3-first-job', status: 'CREATING', error_code: '' });
    expect(r.id).toMatch(/jb[0-9a-f]{2}$/);
    expect(r.create_time).toMatch(/^\d{13}$/);
    await drain();
    const s = await api.send(status as H, 'POST', '/jobs/batch-status', { jobs: [r.id] });
    expect(s).toMatchObject({ status: 200, body: { count: 1, results: [{ id: r.id, status: 'CONFIGURATION', error_code: '', error_message: '' }] } });
    // customize_sutnet_id (sic) is accepted and stored; the password is never stored in clear nor returned
    const job = await api.get(r.id);
    expect(job.echo.customize_subnet_id).toBe(item.customize_sutnet_id);
    expect(await api.snapshot()).not.toContain(FAKE_PASSWORD);
    const d = await api.send(detail as H, 'POST', '/jobs/batch-detail', { jobs: [r.id] });
    expect(JSON.stringify(d.body)).not.toContain(FAKE_PASSWORD);
  });

  it('keeps 202 when only some items fail, each failure with its v3 code', async () => {
    const dup = createItemV3({ name: 'v3-dup-name' });
    await api.send(create as H, 'POST', '/jobs/batch-creation', { jobs: [dup] });
    const res = await api.send(create as H, 'POST', '/jobs/batch-creation', { jobs: [createItemV3({ name: 'v3-second' }), createItemV3({ name: 'V3-DUP-NAME' }), createItemV3({ engine_type: 'mongodb' })] });
    expect(res.status).toBe(202);
    expect(results(res).map((x) => x.error_code)).toEqual(['', 'DRS.M00277', 'DRS.M00302']);
    expect(results(res)[1]).toMatchObject({ id: '', name: 'V3-DUP-NAME' });
    await drain();
  });

  it('answers 400 (first error on top) when every item fails', async () => {
    const res = await api.send(create as H, 'POST', '/jobs/batch-creation', { jobs: [createItemV3({ engine_type: 'gaussdbv5' })] });
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.M00302', count: 1, results: [{ error_code: 'DRS.M00302' }] } });
  });

  it.each([
    ['a port of the wrong type', { source_endpoint: { db_type: 'mysql', ip: '127.0.0.1', db_port: '3306' } }, 'source_endpoint.db_port'],
    ['an unknown field', { colour: 'blue' }, 'colour'],
    ['a node type this deployment does not offer', { node_type: '2xlarge' }, 'node_type'],
    ['expired_days out of range', { expired_days: '7' }, 'expired_days'],
    ['dual-active DR', { db_use_type: 'cloudDataGuard', engine_type: 'cloudDataGuard-mysql', multi_write: true }, 'multi_write'],
  ])('refuses %s with 400 DRS.M00202 naming the field, storing nothing', async (_c, over, field) => {
    const before = await api.snapshot();
    const res = await api.send(create as H, 'POST', '/jobs/batch-creation', { jobs: [createItemV3(over)] });
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(res.body.error_msg).toContain(field);
    expect(await api.snapshot()).toBe(before);
  });

  it('refuses creation past the project quota with DRS.M00105 and reports the same quota', async () => {
    const tenant = await svc.newTenant();
    const t = v3(tenant);
    const deps = () => ({ ...jobDeps(), maxJobsPerProject: 1 });
    const first = await t.send(makeCreate(deps) as H, 'POST', '/jobs/batch-creation', { jobs: [createItemV3()] });
    expect(first.status).toBe(202);
    const second = await t.send(makeCreate(deps) as H, 'POST', '/jobs/batch-creation', { jobs: [createItemV3()] });
    expect(second).toMatchObject({ status: 400, body: { error_code: 'DRS.M00105', results: [{ error_code: 'DRS.M00105' }] } });
    const q = await t.send(makeQuotas(deps) as H, 'GET', '/quotas');
    expect(q).toMatchObject({ status: 200, body: { quotas: { resource: { type: 'instances', max: 1, quota: 1, used: 1, min: 0 } } } });
    const dflt = await t.send(quotas as H, 'GET', '/quotas');
    expect(dflt.body).toMatchObject({ quotas: { resource: { max: 50, used: 1 } } });
    await drain();
  });
});

describe('batch-status, batch-detail, batch-progress', () => {
  it('reports an unknown job per item with DRS.M00289, and 400 when no job exists (Terraform reads results[0].error_code)', async () => {
    const id = await api.job();
    const mixed = await api.send(detail as H, 'POST', '/jobs/batch-detail', { jobs: [id, MISSING] });
    expect(mixed.status).toBe(200);
    expect(results(mixed)[1]).toMatchObject({ id: MISSING, error_code: 'DRS.M00289' });
    const gone = await api.send(detail as H, 'POST', '/jobs/batch-detail', { jobs: [MISSING] });
    expect(gone).toMatchObject({ status: 400, body: { error_code: 'DRS.M00289', results: [{ id: MISSING, error_code: 'DRS.M00289' }] } });
    const st = await api.send(status as H, 'POST', '/jobs/batch-status', { jobs: [MISSING] });
    expect(st).toMatchObject({ status: 400, body: { results: [{ id: MISSING, error_code: 'DRS.M00289' }] } });
    expect(typeof (results(st)[0] as { error_message: string }).error_message).toBe('string');
  });

  it('renders the detail in the SDK types: epoch strings, int db_port, endpoint without password', async () => {
    const id = await api.job({ task_type: 'FULL_INCR_TRANS', source_endpoint: { db_type: 'mysql', ip: '127.0.0.1', db_port: 3307, db_user: 'u1', db_password: FAKE_PASSWORD, inst_id: 'abc123in01', region: 'eu-west-1', vpc_id: 'vpc-1' } });
    const d = await api.send(detail as H, 'POST', '/jobs/batch-detail', { jobs: [id], page_req: { cur_page: 1, per_page: 5 } });
    expect(d.status).toBe(200);
    const r = results(d)[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(r).toMatchObject({ id, status: 'CONFIGURATION', task_type: 'FULL_INCR_TRANS', db_use_type: 'migration', job_direction: 'up', net_type: 'eip', is_target_readonly: true, multi_write: false });
    expect(r.create_time).toMatch(/^\d{13}$/);
    expect(r.update_time).toMatch(/^\d{13}$/);
    expect(r.source_endpoint).toMatchObject({ db_type: 'mysql', ip: '127.0.0.1', db_port: 3307, db_user: 'u1', inst_id: 'abc123in01', region: 'eu-west-1', vpc_id: 'vpc-1', ssl_link: false });
    expect(r.source_endpoint.db_password).toBeUndefined();
    expect(r.inst_info).toMatchObject({ engine_type: 'mysql', inst_type: 'high' });
    expect(r.speed_limit).toEqual([]);
    expect(r.period_order).toBeUndefined();
  });

  it('pages batch-status with page_req while count stays the number of ids', async () => {
    const ids = [await api.job(), await api.job(), await api.job()];
    const res = await api.send(status as H, 'POST', '/jobs/batch-status', { jobs: ids, page_req: { cur_page: 2, per_page: 2 } });
    expect(res.body.count).toBe(3);
    expect(results(res).map((x) => x.id)).toEqual([ids[2]]);
  });

  it('reports progress as strings, delay -1 before incremental, and the struct/data/index map (202)', async () => {
    const id = await api.job();
    const res = await api.send(progress as H, 'POST', '/jobs/batch-progress', { jobs: [id] });
    expect(res.status).toBe(202);
    expect(results(res)[0]).toMatchObject({
      job_id: id,
      progress: '0%',
      incre_trans_delay: '-1',
      incr_trans_delay: '-1',
      task_mode: 'FULL_TRANS',
      transfer_status: 'CONFIGURATION',
      progress_map: { struct: { completed: '0%' }, data: { completed: '0%' }, index: { completed: '0%' } },
    });
    await api.force(id, 'INCRE_TRANSFER_STARTED', { run: { runId: 'r1', phase: 'incremental', startedAt: Date.now(), cdc: { lagMillis: 2500, eventsPerSecond: 3, eventsApplied: 10, transactionsApplied: 5, updatedAt: Date.now() } } });
    const inc = await api.send(progress as H, 'POST', '/jobs/batch-progress', { jobs: [id] });
    expect(results(inc)[0]).toMatchObject({ incre_trans_delay: '2', incre_trans_delay_millis: '2500' });
  });

  it.each([
    ['no ids', { jobs: [] }, 'jobs'],
    ['an id that is not an id', { jobs: ['../etc'] }, 'jobs.0'],
    ['a page size over 100', { jobs: ['a'], page_req: { per_page: 101 } }, 'page_req.per_page'],
  ])('refuses %s with 400 naming the field', async (_c, body, field) => {
    const res = await api.send(status as H, 'POST', '/jobs/batch-status', body);
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(res.body.error_msg).toContain(field);
  });
});

describe('POST /v3/{project_id}/jobs (the job list)', () => {
  it('filters by name or id (as Terraform reads net_type), status and paging; total_record ignores paging', async () => {
    const tenant = await svc.newTenant();
    const t = v3(tenant);
    const a = await t.job({ name: 'list-alpha' });
    await t.job({ name: 'list-beta' });
    await t.job({ name: 'list-gamma', db_use_type: 'sync' });
    const byId = await t.send(list as H, 'POST', '/jobs', { cur_page: 1, per_page: 1, name: a, db_use_type: 'migration' });
    expect(byId).toMatchObject({ status: 200, body: { total_record: 1, jobs: [{ id: a, name: 'list-alpha', net_type: 'eip', db_use_type: 'migration', node_newFramework: true, children: [] }] } });
    const job = (byId.body.jobs as Record<string, unknown>[])[0];
    expect(job.create_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect((job.job_action as { available_actions: string[] }).available_actions).toContain('PRE_CHECK');
    const paged = await t.send(list as H, 'POST', '/jobs', { cur_page: 2, per_page: 1, db_use_type: 'migration' });
    expect(paged.body.total_record).toBe(2);
    expect((paged.body.jobs as unknown[]).length).toBe(1);
    const all = await t.send(list as H, 'POST', '/jobs', { cur_page: 0, per_page: 0, db_use_type: 'migration', status: 'CONFIGURATION' });
    expect(all.body.total_record).toBe(2);
    const sync = await t.send(list as H, 'POST', '/jobs', { cur_page: 1, per_page: 10, db_use_type: 'sync', name: 'GAMMA' });
    expect(sync.body.total_record).toBe(1);
    const none = await t.send(list as H, 'POST', '/jobs', { cur_page: 1, per_page: 10, db_use_type: 'migration', status: 'FULL_TRANSFER_FAILED' });
    expect(none.body).toEqual({ total_record: 0, jobs: [] });
  });

  it.each([
    ['a missing db_use_type', { cur_page: 1, per_page: 10 }, 'db_use_type'],
    ['per_page over 100', { cur_page: 1, per_page: 101, db_use_type: 'sync' }, 'per_page'],
    ['an unknown status', { cur_page: 1, per_page: 1, db_use_type: 'sync', status: 'NOPE' }, 'status'],
    ['an empty enterprise project', { cur_page: 1, per_page: 1, db_use_type: 'sync', enterprise_project_id: '' }, 'enterprise_project_id'],
  ])('refuses %s with 400 naming the field', async (_c, body, field) => {
    const res = await api.send(list as H, 'POST', '/jobs', body);
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(res.body.error_msg).toContain(field);
  });
});
