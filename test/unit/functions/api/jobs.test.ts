import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as batchDelete } from '../../../../functions/api/v5/batch-delete-jobs.js';
import { handler as batchStop } from '../../../../functions/api/v5/batch-stop-jobs-action.js';
import { handler as copy } from '../../../../functions/api/v5/copy-job.js';
import { handler as create } from '../../../../functions/api/v5/create-job.js';
import { handler as remove } from '../../../../functions/api/v5/delete-job.js';
import { handler as action } from '../../../../functions/api/v5/execute-job-action.js';
import { handler as batchAction } from '../../../../functions/api/v5/batch-execute-job-actions.js';
import { handler as list } from '../../../../functions/api/v5/list-jobs.js';
import { handler as actions } from '../../../../functions/api/v5/show-actions.js';
import { handler as detail } from '../../../../functions/api/v5/show-job-detail.js';
import { handler as stop } from '../../../../functions/api/v5/stop-job-action.js';
import { handler as update } from '../../../../functions/api/v5/update-job.js';
import { handler as validateName } from '../../../../functions/api/v5/validate-job-name.js';
import { handler as tagAction } from '../../../../functions/api/v5/batch-tag-action.js';
import { handler as instanceTags } from '../../../../functions/api/v5/show-instance-tags.js';
import { handler as projectTags } from '../../../../functions/api/v5/list-project-tags.js';
import { jobStore } from '../../../../lib/store/job-store.js';
import { table } from '../../../../lib/store/table.js';
import type { Job } from '../../../../lib/job/job.js';
import type { JobStatus } from '../../../../lib/job/transitions.js';
import { apiEvent, call } from '../../../helpers/events.js';
import type { Cred } from '../../../helpers/huawei.js';
import { createJobBody, drain } from '../../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../../helpers/local.js';

let svc: LocalService;
let cred: Cred;
beforeAll(async () => {
  svc = await startLocal({ http: false });
  cred = svc.cred;
});
afterAll(async () => {
  await drain();
  await svc.stop();
});

const JOBS = '/v5/{project_id}/jobs';
const JOB = '/v5/{project_id}/jobs/{job_id}';
const snapshot = async () => JSON.stringify(await table().query(`P#${cred.projectId}`));

async function newJob(over: Parameters<typeof createJobBody>[0] = {}, who: Cred = cred): Promise<string> {
  const res = await call(create, apiEvent({ method: 'POST', route: JOBS, body: createJobBody(over), cred: who }));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  await drain();
  return res.body.id as string;
}

async function forceStatus(id: string, status: JobStatus, extra: Partial<Job> = {}): Promise<void> {
  const job = (await jobStore().get(cred.projectId, id))!;
  await jobStore().save({ ...job, ...extra, status, version: job.version + 1, run: { runId: 'r0', phase: 'full', startedAt: Date.now(), ...(extra.run ?? {}) } });
}

const getDetail = async (id: string, type = 'detail', query: Record<string, string> = {}) => call(detail, apiEvent({ method: 'GET', route: JOB, params: { job_id: id }, query: { type, ...query }, cred }));

describe('POST /v5/{project_id}/jobs', () => {
  it('answers CREATING with id at top level and in job, then the job becomes CONFIGURATION', async () => {
    const res = await call(create, apiEvent({ method: 'POST', route: JOBS, body: createJobBody({ name: 'first-job' }), cred }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'first-job', status: 'CREATING', is_clone_job: 'false', job: { id: res.body.id, status: 'CREATING' } });
    expect(res.body.id).toMatch(/^[0-9a-f-]{30,}jb[0-9a-f]{2}$/);
    await drain();
    const d = await getDetail(res.body.id as string);
    expect(d.body).toMatchObject({ job: { status: 'CONFIGURATION', base_info: { name: 'first-job', task_type: 'FULL_TRANS' }, source_endpoint: [{ endpoint: { ip: '127.0.0.1', db_port: '1' } }] } });
    expect(JSON.stringify(d.body)).not.toContain('not-a-real-password');
    expect(await snapshot()).not.toContain('not-a-real-password');
  });

  it.each([
    ['an unsupported engine', { engine: 'oracle-to-gaussdbv5' }, 400, 'DRS.10010025'],
    ['a bad name', { name: '1-starts-with-digit' }, 400, 'DRS.10020002'],
    ['a mismatched endpoint type', { engine: 'postgresql' }, 400, 'DRS.10020002'],
  ])('refuses %s and stores nothing', async (_c, over, status, code) => {
    const before = await snapshot();
    const res = await call(create, apiEvent({ method: 'POST', route: JOBS, body: createJobBody(over), cred }));
    expect(res).toMatchObject({ status, body: { error_code: code } });
    expect(await snapshot()).toBe(before);
  });

  it('refuses a duplicate name, case-insensitively', async () => {
    await newJob({ name: 'Unique-Name' });
    const res = await call(create, apiEvent({ method: 'POST', route: JOBS, body: createJobBody({ name: 'unique-name' }), cred }));
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.10020077' } });
    const v = await call(validateName, apiEvent({ method: 'POST', route: `${JOBS}/name-validation`, body: { name: 'UNIQUE-NAME', type: 'trans' }, cred }));
    expect(v.body).toMatchObject({ is_valid: false, error_code: 'DRS.M00277' });
    const ok = await call(validateName, apiEvent({ method: 'POST', route: `${JOBS}/name-validation`, body: { name: 'free-name', type: 'trans' }, cred }));
    expect(ok.body.is_valid).toBe(true);
  });
});

describe('list and detail', () => {
  it('lists with filters and paging; total_count ignores paging', async () => {
    const tenant = await svc.newTenant();
    for (const n of ['list-a1', 'list-a2', 'list-b1']) await newJob({ name: n }, tenant);
    const all = await call(list, apiEvent({ method: 'GET', route: JOBS, query: { job_type: 'migration', limit: '2', sort_key: 'name', sort_dir: 'asc' }, cred: tenant }));
    expect(all.body.total_count).toBe(3);
    expect((all.body.jobs as { name: string; job_action: { available_actions: string[] } }[]).map((j) => j.name)).toEqual(['list-a1', 'list-a2']);
    expect((all.body.jobs as { job_action: { available_actions: string[] } }[])[0].job_action.available_actions).toContain('PRE_CHECK');
    const byName = await call(list, apiEvent({ method: 'GET', route: JOBS, query: { job_type: 'migration', name: 'LIST-A' }, cred: tenant }));
    expect(byName.body.total_count).toBe(2);
    const byStatus = await call(list, apiEvent({ method: 'GET', route: JOBS, query: { job_type: 'migration', status: 'CREATE_FAILED,FULL_TRANSFER_FAILED' }, cred: tenant }));
    expect(byStatus.body.total_count).toBe(0);
    const missingType = await call(list, apiEvent({ method: 'GET', route: JOBS, query: {}, cred: tenant }));
    expect(missingType).toMatchObject({ status: 400 });
    expect(missingType.body.error_msg).toContain('job_type');
  });

  it('answers 404 DRS.10000010 for an unknown job and for another project\'s job', async () => {
    const id = await newJob();
    const other = await svc.newTenant();
    const res = await call(detail, apiEvent({ method: 'GET', route: JOB, params: { job_id: id }, query: { type: 'detail' }, cred: other }));
    expect(res).toMatchObject({ status: 404, body: { error_code: 'DRS.10000010' } });
    const missing = await getDetail('00000000-0000-0000-0000-00000000jb00');
    expect(missing).toMatchObject({ status: 404, body: { error_code: 'DRS.10000010' } });
  });

  it('serves progress and log views', async () => {
    const id = await newJob();
    const p = await getDetail(id, 'progress');
    expect(p.body).toMatchObject({ job: { progress_info: { progress: '0%', incr_trans_delay: '0', progress_map: { data: { completed: '0%' } } } } });
    const l = await getDetail(id, 'log');
    expect(typeof (l.body.job as { total_count: number }).total_count).toBe('number');
    const bad = await getDetail(id, 'network', { query_id: '11111111-1111-1111-1111-111111111111' });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'DRS.10020002' } });
  });
});

describe('lifecycle rules', () => {
  it('refuses start before a passed precheck, naming the status', async () => {
    const id = await newJob();
    const before = await snapshot();
    const res = await call(action, apiEvent({ method: 'POST', route: `${JOB}/action`, params: { job_id: id }, body: { job: { action_name: 'start' } }, cred }));
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.10010014' } });
    expect(res.body.error_msg).toContain('CONFIGURATION');
    expect(await snapshot()).toBe(before);
  });

  it('refuses pause in CONFIGURATION and bind_eip anywhere, with clear messages', async () => {
    const id = await newJob();
    const pause = await call(action, apiEvent({ method: 'POST', route: `${JOB}/action`, params: { job_id: id }, body: { job: { action_name: 'stop' } }, cred }));
    expect(pause).toMatchObject({ status: 400, body: { error_code: 'DRS.10010028' } });
    const eip = await call(action, apiEvent({ method: 'POST', route: `${JOB}/action`, params: { job_id: id }, body: { job: { action_name: 'bind_eip', action_params: { public_ip_config: { id: 'x', public_ip: '1.2.3.4' } } } }, cred }));
    expect(eip.status).toBe(400);
    expect(eip.body.error_msg).toMatch(/does not apply to this deployment/);
  });

  it('pauses a running job, lists RETRY, and ends it through /stop to RELEASE_RESOURCE_COMPLETE, then deletes it', async () => {
    const id = await newJob();
    await forceStatus(id, 'FULL_TRANSFER_STARTED');
    const paused = await call(action, apiEvent({ method: 'POST', route: `${JOB}/action`, params: { job_id: id }, body: { job: { action_name: 'stop' } }, cred }));
    expect(paused).toMatchObject({ status: 200, body: { status: 'success', id } });
    const acts = await call(actions, apiEvent({ method: 'GET', route: `${JOB}/actions`, params: { job_id: id }, cred }));
    expect(acts.body).toMatchObject({ job_action: { current_action: 'PAUSE' } });
    expect((acts.body.job_action as { available_actions: string[] }).available_actions).toEqual(expect.arrayContaining(['RETRY', 'FREE_RESOURCE']));
    expect((await call(remove, apiEvent({ method: 'DELETE', route: JOB, params: { job_id: id }, cred }))).body.error_code).toBe('DRS.10010030');
    const ended = await call(stop, apiEvent({ method: 'POST', route: `${JOB}/stop`, params: { job_id: id }, body: {}, cred }));
    expect(ended).toMatchObject({ status: 200, body: { status: 'success' } });
    await drain();
    expect((await getDetail(id)).body).toMatchObject({ job: { status: 'RELEASE_RESOURCE_COMPLETE' } });
    expect((await call(remove, apiEvent({ method: 'DELETE', route: JOB, params: { job_id: id }, cred }))).status).toBe(200);
    expect((await getDetail(id)).status).toBe(404);
  });

  it('settles 20 concurrent actions on one job into one consistent outcome', async () => {
    const id = await newJob();
    await forceStatus(id, 'FULL_TRANSFER_STARTED');
    const names = ['stop', 'terminate', 'restart', 'stop', 'reset'];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(action, apiEvent({ method: 'POST', route: `${JOB}/action`, params: { job_id: id }, body: { job: { action_name: names[i % names.length] } }, cred }))),
    );
    await drain();
    const job = (await jobStore().get(cred.projectId, id))!;
    const ok = results.filter((r) => r.status === 200);
    // Every refusal names a status; nothing is 5xx.
    for (const r of results) expect([200, 400, 409]).toContain(r.status);
    for (const r of results.filter((x) => x.status === 400)) expect(r.body.error_msg).toMatch(/status [A-Z_]+/);
    // The version counts exactly the successful transitions (plus the ones the release task made).
    expect(ok.length).toBeGreaterThan(0);
    expect(['PAUSING', 'RELEASE_RESOURCE_COMPLETE', 'RELEASE_RESOURCE_STARTED']).toContain(job.status);
  });

  it('batch actions and batch stop report per-job results and keep HTTP 200', async () => {
    const id = await newJob();
    const res = await call(batchAction, apiEvent({ method: 'POST', route: `${JOBS}/action`, body: { jobs: [{ job_id: id, action_name: 'stop' }, { job_id: 'nonexistent-id', action_name: 'stop' }] }, cred }));
    expect(res.status).toBe(200);
    expect(res.body.jobs).toMatchObject([{ id, status: 'Failed', error_code: 'DRS.10010028' }, { id: 'nonexistent-id', status: 'Failed', error_code: 'DRS.10000010' }]);
    const bs = await call(batchStop, apiEvent({ method: 'POST', route: `${JOBS}/batch-stop`, body: { jobs: [{ job_id: id }, { job_id: 'nope-0000' }] }, cred }));
    expect(bs.body.jobs).toMatchObject([{ id, status: 'success' }, { id: 'nope-0000', status: 'failed', error_code: 'DRS.10000010' }]);
    await drain();
    const bd = await call(batchDelete, apiEvent({ method: 'DELETE', route: JOBS, body: { jobs: [id, 'nope-0000'] }, cred }));
    expect(bd.body.jobs).toMatchObject([{ id, status: 'Success' }, { id: 'nope-0000', status: 'Failed' }]);
  });

  it('updates name, description and object selection; refuses a hostile row filter', async () => {
    const id = await newJob({ name: 'before-rename' });
    const r1 = await call(update, apiEvent({ method: 'PUT', route: JOB, params: { job_id: id }, body: { job: { type: 'name', params: { base_info: { name: 'after-rename' } } } }, cred }));
    expect(r1).toMatchObject({ status: 200, body: { status: 'success', name: 'after-rename' } });
    const sel = { object_scope: 'table', object_info: { shop: { name: 'shop_copy', tables: { orders: { name: 'orders_copy', filtered: true, filter_conditions: ['id > 10'] } } } } };
    const r2 = await call(update, apiEvent({ method: 'PUT', route: JOB, params: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: sel } } }, cred }));
    expect(r2.status).toBe(200);
    const bad = { object_scope: 'table', object_info: { shop: { tables: { orders: { filtered: true, filter_conditions: ['1=1; DROP TABLE x'] } } } } };
    const r3 = await call(update, apiEvent({ method: 'PUT', route: JOB, params: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: bad } } }, cred }));
    expect(r3.status).toBe(400);
    expect(r3.body.error_msg).toContain('filter_conditions');
    const d = await getDetail(id);
    expect(d.body).toMatchObject({ job: { base_info: { name: 'after-rename' }, db_object: sel } });
  });

  it('stores column renames and drops; refuses a bad column mapping with 400 naming the field and stores nothing', async () => {
    // Prepare
    const id = await newJob({ name: 'column-mapping' });
    const table = (columns: object) => ({ object_scope: 'table', object_info: { shop: { tables: { orders: { name: 'orders', columns } } } } });
    const put = (sel: object) => call(update, apiEvent({ method: 'PUT', route: JOB, params: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: sel } } }, cred }));
    const good = table({ qty: { name: 'it\'s "qty"', filtered: true }, note: { name: 'note', filtered: false } });
    expect((await put(good)).status).toBe(200);
    const before = await snapshot();

    // Act
    const bad = await Promise.all([
      put(table({ created: { name: 'created', additional: true } })),
      put(table({ id: { name: 'id', filtered: false, primary_key_for_column_filtering: 'PRI' } })),
      put(table({ qty: { name: 'x' }, note: { name: 'x' } })),
      put(table({ qty: { name: 'q'.repeat(65) } })),
    ]);

    // Assess
    expect(bad.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(bad.map((r) => r.body.error_msg)).toEqual([
      expect.stringContaining('columns.created.additional'),
      expect.stringContaining('columns.id.filtered'),
      expect.stringContaining('columns.note.name'),
      expect.stringContaining('columns.qty.name'),
    ]);
    expect(await snapshot()).toBe(before);
    expect((await getDetail(id)).body).toMatchObject({ job: { db_object: good } });
  });

  it('clones only jobs that have started, with a new name', async () => {
    const id = await newJob();
    const early = await call(copy, apiEvent({ method: 'POST', route: `${JOBS}/clone`, body: { job_id: id, name: 'clone-early' }, cred }));
    expect(early.status).toBe(400);
    await forceStatus(id, 'FULL_TRANSFER_COMPLETE');
    const ok = await call(copy, apiEvent({ method: 'POST', route: `${JOBS}/clone`, body: { job_id: id, name: 'clone-ok' }, cred }));
    expect(ok).toMatchObject({ status: 202, body: { name: 'clone-ok', status: 'CREATING', is_clone_job: 'true' } });
    await drain();
    expect((await getDetail(ok.body.id as string)).body).toMatchObject({ job: { status: 'CONFIGURATION' } });
  });
});

describe('tags (seed 7.11, as the Terraform provider calls them)', () => {
  const ACTION = '/v5/{project_id}/jobs/{resource_type}/{job_id}/tags/action';
  const TAGS = '/v5/{project_id}/jobs/{resource_type}/{job_id}/tags';
  it('adds, lists, overwrites and removes a job\'s tags; the project list aggregates them', async () => {
    const tenant = await svc.newTenant();
    const id = await newJob({ name: 'tagged-job' }, tenant);
    const add = await call(tagAction, apiEvent({ method: 'POST', route: ACTION, params: { resource_type: 'migration', job_id: id }, body: { action: 'create', tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'data' }] }, cred: tenant }));
    expect(add.status).toBe(204);
    await call(tagAction, apiEvent({ method: 'POST', route: ACTION, params: { resource_type: 'migration', job_id: id }, body: { action: 'create', tags: [{ key: 'env', value: 'staging' }] }, cred: tenant }));
    const shown = await call(instanceTags, apiEvent({ method: 'GET', route: TAGS, params: { resource_type: 'migration', job_id: id }, cred: tenant }));
    expect(shown.body.tags).toEqual([{ key: 'env', value: 'staging' }, { key: 'team', value: 'data' }]);
    const listed = await call(projectTags, apiEvent({ method: 'GET', route: '/v5/{project_id}/jobs/{resource_type}/tags', params: { resource_type: 'migration' }, cred: tenant }));
    expect(listed.body.tags).toEqual([{ key: 'env', values: ['staging'] }, { key: 'team', values: ['data'] }]);
    await call(tagAction, apiEvent({ method: 'POST', route: ACTION, params: { resource_type: 'migration', job_id: id }, body: { action: 'delete', tags: [{ key: 'team' }] }, cred: tenant }));
    expect((await call(instanceTags, apiEvent({ method: 'GET', route: TAGS, params: { resource_type: 'migration', job_id: id }, cred: tenant }))).body.tags).toEqual([{ key: 'env', value: 'staging' }]);
  });

  it('answers 404 for another project, and for a job of another type; refuses reserved keys', async () => {
    const id = await newJob();
    const other = await svc.newTenant();
    const foreign = await call(tagAction, apiEvent({ method: 'POST', route: ACTION, params: { resource_type: 'migration', job_id: id }, body: { action: 'create', tags: [{ key: 'x', value: 'y' }] }, cred: other }));
    expect(foreign).toMatchObject({ status: 404, body: { error_code: 'DRS.10000010' } });
    const wrongType = await call(instanceTags, apiEvent({ method: 'GET', route: TAGS, params: { resource_type: 'sync', job_id: id }, cred }));
    expect(wrongType.status).toBe(404);
    const reserved = await call(tagAction, apiEvent({ method: 'POST', route: ACTION, params: { resource_type: 'migration', job_id: id }, body: { action: 'create', tags: [{ key: '_sys_enterprise', value: 'y' }] }, cred }));
    expect(reserved).toMatchObject({ status: 400 });
    expect(reserved.body.error_msg).toContain('tags');
  });
});

