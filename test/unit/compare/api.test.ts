/**
 * The compare APIs through their handlers (signed events, the embedded store): v5 actions and
 * views, v3 operations, validation, status rules, tenant isolation, and the shapes the SDK
 * models declare. Results come from compares run in-process against fake databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createTaskV3 } from '../../../functions/api/v3/compare-create-task.js';
import { handler as createTableJob } from '../../../functions/api/v3/compare-create-table-job.js';
import { handler as deleteJob } from '../../../functions/api/v3/compare-delete-job.js';
import { handler as download } from '../../../functions/api/v3/compare-download-result-file.js';
import { handler as contentDiffV3 } from '../../../functions/api/v3/compare-list-content-difference.js';
import { handler as contentDetailV3 } from '../../../functions/api/v3/compare-list-content-detail.js';
import { handler as lineDetailV3 } from '../../../functions/api/v3/compare-list-line-detail.js';
import { handler as lineOverviewV3 } from '../../../functions/api/v3/compare-list-line-overview.js';
import { handler as listTableJobs } from '../../../functions/api/v3/compare-list-table-jobs.js';
import { handler as queryV3 } from '../../../functions/api/v3/compare-query-result.js';
import { handler as startNow } from '../../../functions/api/v3/compare-start-table-job.js';
import { handler as healthJobs } from '../../../functions/api/v5/compare-list-health-jobs.js';
import { handler as healthJob } from '../../../functions/api/v5/compare-show-health-job.js';
import { handler as healthObjects } from '../../../functions/api/v5/compare-show-health-object-overview.js';
import { handler as progressData } from '../../../functions/api/v5/compare-show-progress-data.js';
import { handler as showPolicy } from '../../../functions/api/v5/compare-show-policy.js';
import { handler as showProgress } from '../../../functions/api/v5/compare-show-progress.js';
import { handler as updatePolicy } from '../../../functions/api/v5/compare-update-policy.js';
import { handler as create } from '../../../functions/api/v5/create-job.js';
import { handler as action } from '../../../functions/api/v5/execute-job-action.js';
import { handler as detail } from '../../../functions/api/v5/show-job-detail.js';
import { compareDeps } from '../../../lib/compare/deps.js';
import type { EndpointConfig, SourceEngine, TableRef, TableSchema, TargetEngine } from '../../../lib/engines/engine.js';
import { mutateJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import type { JobStatus } from '../../../lib/job/transitions.js';
import { compareWork, finishCompare, startCompare } from '../../../lib/steps/compare.js';
import { jobStore } from '../../../lib/store/job-store.js';
import { setWorkflow, type WorkflowInput } from '../../../lib/workflow/workflow.js';
import { apiEvent, call } from '../../helpers/events.js';
import type { Cred } from '../../helpers/huawei.js';
import { createJobBody, drain } from '../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../helpers/local.js';
import { FakeComparer, rowsOf } from './fake-comparer.js';

let svc: LocalService;
let cred: Cred;
const started: WorkflowInput[] = [];
beforeAll(async () => {
  svc = await startLocal({ http: false });
  cred = svc.cred;
});
afterAll(async () => {
  setWorkflow(undefined);
  await svc.stop();
});

const JOB = '/v5/{project_id}/jobs/{job_id}';
const ACTION = '/v5/{project_id}/jobs/{job_id}/action';

async function newJob(status: JobStatus, who: Cred = cred): Promise<string> {
  setWorkflow(undefined);
  const res = await call(create, apiEvent({ method: 'POST', route: '/v5/{project_id}/jobs', body: createJobBody({ source: { kind: 'mysql', host: '127.0.0.1', port: 1, user: 'u', password: 'p' }, target: { kind: 'mysql', host: '127.0.0.1', port: 2, user: 'u', password: 'p' } }), cred: who }));
  await drain();
  await mutateJob(who.projectId, res.body.id as string, jobDeps(), (j) => ({ ...j, status }));
  // Compares created from here on are recorded, not run: each test runs the steps itself when it needs results.
  setWorkflow({ start: async (i) => (started.push(i), 'exec') });
  return res.body.id as string;
}

const act = (jobId: string, job: Record<string, unknown>, who: Cred = cred) => call(action, apiEvent({ method: 'POST', route: ACTION, params: { job_id: jobId }, body: { job }, cred: who }));
const compareView = (jobId: string, query: Record<string, string>) => call(detail, apiEvent({ method: 'GET', route: JOB, params: { job_id: jobId }, query: { type: 'compare', ...query }, cred }));

/** Run a created compare to its end with fake databases: the source has 100 rows, the target lacks row 7 and changed row 9. */
async function runWithFakes(jobId: string, taskId: string): Promise<void> {
  const cols = ['id', 'name', 'amount'].map((name) => ({ name, type: 'varchar(9)', dataType: 'varchar', nullable: true }));
  const ref: TableRef = { db: 'shop', table: 'orders' };
  const table = { ref, exists: true, columns: cols, primaryKey: ['id'], indexes: [{ name: 'PRIMARY', columns: ['id'], unique: true, primary: true }] };
  const source = new FakeComparer().set(ref, rowsOf(100));
  const target = new FakeComparer().set(ref, rowsOf(100).filter((r) => r.key[0] !== 7).map((r) => (r.key[0] === 9 ? { ...r, values: ['9', "o'brien", r.values[2]!] } : r)));
  source.description = target.description = { databases: [{ db: 'shop', exists: true }], tables: [table] };
  const engine = {
    listObjects: async () => ({ databases: [{ name: 'shop', tables: ['orders'] }] }),
    readSchema: async (refs: TableRef[]): Promise<TableSchema[]> => refs.map((r) => ({ ref: r, columns: cols, primaryKey: ['id'], indexes: [], estimatedRows: 100, estimatedBytes: 10_000 })),
    planChunks: async (s: TableSchema) => [{ id: 'c0', table: s.ref, keyColumns: ['id'], estimatedRows: 100 }],
    close: async () => undefined,
  } as unknown as SourceEngine & TargetEngine;
  const d = { ...compareDeps(), open: () => engine, openComparer: (c: EndpointConfig) => (c.port === 1 ? source : target) };
  const input = { projectId: cred.projectId, jobId, taskId };
  const s = await startCompare(input, d);
  await Promise.all(s.workers.map((worker) => compareWork({ ...input, worker }, d, 60_000)));
  await finishCompare(input, d);
}

describe('v5 create_compare / cancel_compare and type=compare', () => {
  it('creates a content compare (202 with the task id as query_id), lists it, and cancels it', async () => {
    // Prepare
    const jobId = await newJob('INCRE_TRANSFER_STARTED');

    // Act
    const res = await act(jobId, { action_name: 'create_compare', action_params: { compare_task_param: { type: 'contents', option: { comparePolicy: 'normal' }, db_object: { shop: { tables: { orders: {} } } } } } });

    // Assess
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'success', id: jobId, query_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const taskId = res.body.query_id as string;
    expect(started.at(-1)).toEqual({ mode: 'compare', projectId: cred.projectId, jobId, runId: taskId });
    const list = await compareView(jobId, { compare_type: 'data_compare', query_type: 'list' });
    expect(list.body).toMatchObject({ job: { id: jobId, total_count: 1, compare_result: { data_compare_task_list: [{ id: taskId, type: 'contents', status: 'WAITING_FOR_RUNNING', compute_type: 'drs', export_status: 'INIT', report_remain_seconds: -1, options: { comparePolicy: 'normal' } }] } } });

    const cancelled = await act(jobId, { action_name: 'cancel_compare', action_params: { compare_task_param: { compare_task_id: taskId } } });
    expect(cancelled.status).toBe(200);
    const after = await compareView(jobId, { compare_type: 'data_compare', query_type: 'list' });
    expect((after.body.job as { compare_result: { data_compare_task_list: { status: string }[] } }).compare_result.data_compare_task_list[0]!.status).toBe('CANCELLED');
  });

  it.each([
    ['no compare_task_param', { action_name: 'create_compare' }, 'compare_task_param'],
    ['no type', { action_name: 'create_compare', action_params: { compare_task_param: {} } }, 'type'],
    ['an unknown type', { action_name: 'create_compare', action_params: { compare_task_param: { type: 'random' } } }, 'type'],
    ['an unknown field', { action_name: 'create_compare', action_params: { compare_task_param: { type: 'lines', speed: 1 } } }, 'compare_task_param'],
    ['cancel without an id', { action_name: 'cancel_compare', action_params: { compare_task_param: {} } }, 'compare_task_id'],
  ])('refuses %s with 400 naming the field', async (_c, job, field) => {
    const jobId = await newJob('INCRE_TRANSFER_STARTED');
    const res = await act(jobId, job);
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.10020002' } });
    expect(res.body.error_msg).toContain(field);
  });

  it('refuses a compare before the job has copied anything (status rule), and a second data compare', async () => {
    const configuring = await newJob('CONFIGURATION');
    expect(await act(configuring, { action_name: 'create_compare', action_params: { compare_task_param: { type: 'lines' } } })).toMatchObject({ status: 400, body: { error_code: 'DRS.10010007' } });
    const complete = await newJob('FULL_TRANSFER_COMPLETE');
    expect((await act(complete, { action_name: 'create_compare', action_params: { compare_task_param: { type: 'lines' } } })).status).toBe(202);
    expect((await act(complete, { action_name: 'create_compare', action_params: { compare_task_param: { type: 'contents' } } })).status).toBe(400);
  });

  it('answers type=compare with what the query asks for, and refuses a bad query', async () => {
    const jobId = await newJob('INCRE_TRANSFER_STARTED');
    const taskId = (await act(jobId, { action_name: 'create_compare', action_params: { compare_task_param: { type: 'contents' } } })).body.query_id as string;
    await runWithFakes(jobId, taskId);

    const overview = await compareView(jobId, { compare_type: 'content_compare', query_type: 'overview' });
    expect(overview.body).toMatchObject({ job: { compare_result: { content_compare_overview_infos: [{ source_db: 'shop', target_db: 'shop', status: 'INCONSISTENT', compare_result: false }] } } });
    const detailed = await compareView(jobId, { compare_type: 'content_compare', query_type: 'detail', compare_task_id: taskId });
    expect((detailed.body.job as Record<string, unknown>).compare_result).toMatchObject({
      content_compare_detail_infos: [{ source_db: 'shop', target_db: 'shop', source_table_name: 'orders', target_table_name: 'orders', source_row_num: 100, target_row_num: 99, difference_row_num: 2, line_compare_result: false, content_compare_result: false, message: '' }],
    });
    const uncompared = await compareView(jobId, { compare_type: 'content_compare', query_type: 'detail', compare_detail_type: 'uncompare' });
    expect(uncompared.body).toMatchObject({ job: { total_count: 0, compare_result: { content_compare_detail_infos: [] } } });
    const diff = await compareView(jobId, { compare_type: 'content_compare', query_type: 'diff' });
    expect((diff.body.job as { compare_result: { content_diff_detail_info: unknown } }).compare_result.content_diff_detail_info).toEqual({
      count: 2,
      target_meta_is_null: 1,
      source_meta_is_null: 0,
      source_target_meta_not_null: 1,
      contents_infos: [
        { source_key_value: ['7'], target_key_value: [], source_select_sql: "SELECT * FROM `shop`.`orders` WHERE `id` = '7'", target_select_sql: '' },
        { source_key_value: ['9'], target_key_value: ['9'], source_select_sql: "SELECT * FROM `shop`.`orders` WHERE `id` = '9'", target_select_sql: "SELECT * FROM `shop`.`orders` WHERE `id` = '9'" },
      ],
    });
    const lines = await compareView(jobId, { compare_type: 'line_compare', query_type: 'detail' });
    expect(lines.body).toMatchObject({ job: { total_count: 0 } });
    const progress = await call(showProgress, apiEvent({ method: 'GET', route: '/v5/{project_id}/jobs/{job_id}/compare-progress/{compare_job_id}', params: { job_id: jobId, compare_job_id: taskId }, cred }));
    expect(progress.body).toMatchObject({ full_info: { progress: 100, recheck_entities: 0 }, incre_info: { delay: 0 }, global_info: { src_speed: expect.stringMatching(/rows\/s$/) } });

    for (const [query, field] of [
      [{}, 'compare_type'],
      [{ compare_type: 'content_compare' }, 'query_type'],
      [{ compare_type: 'object_compare', query_type: 'detail', object_type: 'VIEW' }, 'object_type'],
      [{ compare_type: 'line_compare', query_type: 'overview', compare_task_id: taskId }, 'compare_task_id'],
    ] as const) {
      const bad = await compareView(jobId, query as Record<string, string>);
      expect(bad.status, JSON.stringify(query)).toBe(400);
      expect(bad.body.error_msg).toContain(field);
    }
  });

  it('hides another project’s compares', async () => {
    const jobId = await newJob('INCRE_TRANSFER_STARTED');
    const taskId = (await act(jobId, { action_name: 'create_compare', action_params: { compare_task_param: { type: 'lines' } } })).body.query_id as string;
    const other = await svc.newTenant();
    expect((await act(jobId, { action_name: 'cancel_compare', action_params: { compare_task_param: { compare_task_id: taskId } } }, other)).status).toBe(404);
    const res = await call(showProgress, apiEvent({ method: 'GET', route: '/v5/{project_id}/jobs/{job_id}/compare-progress/{compare_job_id}', params: { job_id: jobId, compare_job_id: taskId }, cred: other }));
    expect(res.status).toBe(404);
  });
});

describe('v5 compare policy and health compares', () => {
  it('is CLOSED until opened; opening shows the next run; closing keeps the settings', async () => {
    const jobId = await newJob('INCRE_TRANSFER_STARTED');
    const route = '/v5/{project_id}/jobs/{job_id}/compare-policy';
    expect((await call(showPolicy, apiEvent({ method: 'GET', route, params: { job_id: jobId }, cred }))).body).toEqual({ status: 'CLOSED', compare_type: [], compare_policy: 'normal' });

    const put = await call(updatePolicy, apiEvent({ method: 'PUT', route, params: { job_id: jobId }, body: { action: 'open', period: '* * 1,2,3,4,5,6,7', begin_time: '00:00:00', end_time: '23:00:00', compare_type: ['object_comparison', 'lines'], compare_policy: 'normal', interval_hour: 2 }, cred }));
    expect(put.status).toBe(200);
    const open = await call(showPolicy, apiEvent({ method: 'GET', route, params: { job_id: jobId }, cred }));
    expect(open.body).toMatchObject({ status: 'OPEN', period: '* * 1,2,3,4,5,6,7', begin_time: '00:00:00', end_time: '23:00:00', compare_type: ['object_comparison', 'lines'], compare_policy: 'normal', interval_hour: 2, next_compare_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:00:00Z$/) });

    await call(updatePolicy, apiEvent({ method: 'PUT', route, params: { job_id: jobId }, body: { action: 'close' }, cred }));
    expect((await call(showPolicy, apiEvent({ method: 'GET', route, params: { job_id: jobId }, cred }))).body).toMatchObject({ status: 'CLOSED', compare_type: ['object_comparison', 'lines'] });

    for (const body of [{ action: 'open', compare_type: ['lines'], period: 'daily' }, { action: 'open', compare_type: ['lines'], begin_time: '25:00:00' }, { action: 'maybe' }]) {
      expect((await call(updatePolicy, apiEvent({ method: 'PUT', route, params: { job_id: jobId }, body, cred }))).status).toBe(400);
    }
  });

  it('shows one compare task with the job name, and an object compare’s counts as status codes', async () => {
    const jobId = await newJob('INCRE_TRANSFER_STARTED');
    const taskId = (await act(jobId, { action_name: 'create_compare', action_params: { compare_task_param: { type: 'object' } } })).body.query_id as string;
    await runWithFakes(jobId, taskId);
    const one = await call(healthJob, apiEvent({ method: 'GET', route: '/v5/{project_id}/jobs/{job_id}/health-compare-jobs/{compare_job_id}', params: { job_id: jobId, compare_job_id: taskId }, cred }));
    expect(one.body).toEqual({ id: taskId, type: 'object_comparison', status: 'SUCCESSFUL', start_time: expect.stringMatching(/Z$/), end_time: expect.stringMatching(/Z$/), job_name: expect.any(String) });
    const objects = await call(healthObjects, apiEvent({ method: 'GET', route: '/v5/{project_id}/jobs/{job_id}/health-compare-jobs/object/{compare_job_id}', params: { job_id: jobId, compare_job_id: taskId }, cred }));
    expect(objects.body).toEqual({
      compare_result: [
        { type: 'DB', source_count: 1, target_count: 1, status: 2 },
        { type: 'TABLE', source_count: 1, target_count: 1, status: 2 },
        { type: 'INDEX', source_count: 1, target_count: 1, status: 2 },
      ],
    });
  });

  it('lists per-table copy progress (7.7.3 progress-data) from the job’s plan', async () => {
    const jobId = await newJob('FULL_TRANSFER_STARTED');
    const job = await mutateJob(cred.projectId, jobId, jobDeps(), (j) => ({ ...j, run: { runId: 'r', phase: 'full', startedAt: Date.now(), schemaCopied: true, chunksPlanned: true } }));
    await jobStore().putTables(job, [
      { index: 0, source: { db: 'shop', table: 'a' }, target: { db: 'shop2', table: 'a' }, keyColumns: ['id'], estimatedRows: 10, estimatedBytes: 10, chunkCount: 2 },
      { index: 1, source: { db: 'shop', table: 'b' }, target: { db: 'shop2', table: 'b' }, keyColumns: ['id'], estimatedRows: 10, estimatedBytes: 10, chunkCount: 1 },
    ]);
    const chunk = (tableIndex: number, n: number, status: 'pending' | 'done') => ({ tableIndex, chunk: { id: `${tableIndex}#${n}`, table: { db: 'shop', table: 'a' }, keyColumns: ['id'], estimatedRows: 5 }, status, rows: 0, bytes: 0, attempts: 0 });
    await jobStore().putChunks(job, [chunk(0, 0, 'done'), chunk(0, 1, 'pending'), chunk(1, 0, 'done')]);
    const route = '/v5/{project_id}/jobs/{job_id}/progress-data/{type}';
    const tables = await call(progressData, apiEvent({ method: 'GET', route, params: { job_id: jobId, type: 'table' }, cred }));
    expect(tables.body).toEqual({
      count: 2,
      create_time: expect.stringMatching(/Z$/),
      flow_compare_data: [
        { src_db: 'shop', src_tb: 'a', dst_db: 'shop2', dst_tb: 'a', progress: 50 },
        { src_db: 'shop', src_tb: 'b', dst_db: 'shop2', dst_tb: 'b', progress: 100 },
      ],
    });
    const dbs = await call(progressData, apiEvent({ method: 'GET', route, params: { job_id: jobId, type: 'database' }, cred }));
    expect(dbs.body).toMatchObject({ count: 1, flow_compare_data: [{ src_db: 'shop', dst_db: 'shop2', progress: 50 }] });
    expect((await call(progressData, apiEvent({ method: 'GET', route, params: { job_id: jobId, type: 'trigger' }, cred }))).body).toMatchObject({ count: 0, flow_compare_data: [] });
    expect((await call(progressData, apiEvent({ method: 'GET', route, params: { job_id: jobId, type: 'tables' }, cred }))).status).toBe(400);
  });

  it('lists only the compares the policy ran', async () => {
    const jobId = await newJob('INCRE_TRANSFER_STARTED');
    await act(jobId, { action_name: 'create_compare', action_params: { compare_task_param: { type: 'object' } } });
    const res = await call(healthJobs, apiEvent({ method: 'GET', route: '/v5/{project_id}/jobs/{job_id}/health-compare-jobs', params: { job_id: jobId }, cred }));
    expect(res.body).toEqual({ count: 0, compare_jobs: [] });
  });
});

describe('v3 compare operations', () => {
  it('create-compare-task: object and line compares at once; only a list when both are empty', async () => {
    const jobId = await newJob('INCRE_TRANSFER_STARTED');
    const res = await call(createTaskV3, apiEvent({ method: 'POST', route: '/v3/{project_id}/jobs/create-compare-task', body: { job_id: jobId, object_level_compare_type: 'objects', data_level_compare_info: { conflict_policy: 'keep', compare_type: 'lines', compare_mode: 'quick_comparison' } }, cred }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ job_id: jobId, object_level_compare_create_result: { compare_task_id: expect.any(String), error_code: '' }, data_level_compare_create_result: { compare_task_id: expect.any(String), error_code: '' }, error_code: '', error_msg: '' });

    const kept = await call(createTaskV3, apiEvent({ method: 'POST', route: '/v3/{project_id}/jobs/create-compare-task', body: { job_id: jobId, data_level_compare_info: { conflict_policy: 'keep', compare_type: 'contents', compare_mode: 'quick_comparison' } }, cred }));
    expect(kept.body).toMatchObject({ data_level_compare_create_result: { compare_task_id: (res.body.data_level_compare_create_result as { compare_task_id: string }).compare_task_id, error_code: 'DRS.M05005' } });

    const listOnly = await call(createTaskV3, apiEvent({ method: 'POST', route: '/v3/{project_id}/jobs/create-compare-task', body: { job_id: jobId }, cred }));
    expect(listOnly.body).toEqual({ job_id: jobId, error_code: '', error_msg: '' });

    const q = await call(queryV3, apiEvent({ method: 'POST', route: '/v3/{project_id}/jobs/query-compare-result', body: { job_id: jobId, current_page: 1, per_page: 1 }, cred }));
    expect(q.body).toMatchObject({ job_id: jobId, compare_task_list_results: { compare_task_list_count: 2, compare_task_list: [{ compare_task_status: 'WAITING_FOR_RUNNING', create_time: expect.stringMatching(/^\d{13}$/), end_time: '' }] } });
  });

  it.each([
    ['object and content compares together', { object_level_compare_type: 'objects', data_level_compare_info: { conflict_policy: 'keep', compare_type: 'contents', compare_mode: 'quick_comparison' } }, 'cannot be created together'],
    ['no objects outside quick mode', { data_level_compare_info: { conflict_policy: 'keep', compare_type: 'lines' } }, 'compare_object_infos'],
    ['a bad conflict policy', { data_level_compare_info: { conflict_policy: 'replace', compare_type: 'lines', compare_mode: 'quick_comparison' } }, 'conflict_policy'],
  ])('create-compare-task refuses %s (400 DRS.M00202)', async (_c, body, text) => {
    const jobId = await newJob('INCRE_TRANSFER_STARTED');
    const res = await call(createTaskV3, apiEvent({ method: 'POST', route: '/v3/{project_id}/jobs/create-compare-task', body: { job_id: jobId, ...body }, cred }));
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(res.body.error_msg).toContain(text);
  });

  it('create-compare-task reports a refused part in the part (job not comparable yet)', async () => {
    const jobId = await newJob('FULL_TRANSFER_STARTED');
    const res = await call(createTaskV3, apiEvent({ method: 'POST', route: '/v3/{project_id}/jobs/create-compare-task', body: { job_id: jobId, object_level_compare_type: 'objects' }, cred }));
    expect(res.body).toMatchObject({ object_level_compare_create_result: { compare_task_id: '', error_code: 'DRS.M00304' } });
  });

  it('query-compare-result and the line/content views give a finished compare’s results in the SDK types', async () => {
    const jobId = await newJob('FULL_TRANSFER_COMPLETE');
    const created = await call(createTaskV3, apiEvent({ method: 'POST', route: '/v3/{project_id}/jobs/create-compare-task', body: { job_id: jobId, data_level_compare_info: { conflict_policy: 'cancel', compare_type: 'contents', compare_object_infos: [{ db_name: 'shop', table_name: ['orders'] }] } }, cred }));
    const taskId = (created.body.data_level_compare_create_result as { compare_task_id: string }).compare_task_id;
    await runWithFakes(jobId, taskId);

    const q = await call(queryV3, apiEvent({ method: 'POST', route: '/v3/{project_id}/jobs/query-compare-result', body: { job_id: jobId, content_compare_id: taskId, current_page: 1, per_page: 10 }, cred }));
    expect(q.body.content_compare_results).toEqual({
      compare_task_id: taskId,
      content_compare_overview: [{ source_db_name: 'shop', target_db_name: 'shop', content_compare_result: 'INCONSISTENT' }],
      content_compare_overview_count: 1,
      content_compare_details: [
        {
          source_db_name: 'shop',
          content_compare_detail: [{ source_db_name: 'shop', target_db_name: 'shop', source_table_name: 'orders', target_table_name: 'orders', source_row_num: 100, target_row_num: 99, diff_row_num: 2, line_compare_result: 'INCONSISTENT', content_compare_result: 'INCONSISTENT', message: '' }],
          content_compare_detail_count: 1,
          content_uncompare_detail: [],
          content_uncompare_detail_count: 0,
        },
      ],
      content_compare_diffs: [
        {
          source_db_name: 'shop',
          source_table_name: 'orders',
          content_compare_diff: [
            { target_select_sql: '', source_select_sql: "SELECT * FROM `shop`.`orders` WHERE `id` = '7'", source_key_value: ['7'], target_key_value: [] },
            { target_select_sql: "SELECT * FROM `shop`.`orders` WHERE `id` = '9'", source_select_sql: "SELECT * FROM `shop`.`orders` WHERE `id` = '9'", source_key_value: ['9'], target_key_value: ['9'] },
          ],
          content_compare_diff_count: 2,
        },
      ],
      error_code: '',
      error_msg: '',
    });

    const params = { job_id: jobId, compare_job_id: taskId };
    const route = (p: string) => `/v3/{project_id}/jobs/{job_id}/compare/{compare_job_id}/${p}`;
    expect((await call(lineOverviewV3, apiEvent({ method: 'GET', route: route('line-overview'), params, cred }))).body).toEqual({
      total_count: 1,
      data_compare_overview_infos: [{ source_db_name: 'shop', target_db_name: 'shop', status: 0, compare_num: 1, compare_end_num: 1, data_inconsistent_num: 1, uncomparable_num: 0 }],
    });
    expect((await call(lineDetailV3, apiEvent({ method: 'GET', route: route('line-detail'), params, query: { status: '0' }, cred }))).body).toEqual({
      total_count: 1,
      table_line_compare_result_infos: [{ source_table_name: 'orders', source_row_num: 100, target_table_name: 'orders', target_row_num: 99, difference_row_num: 2, status: 0, compare_line_config_filter: '' }],
    });
    expect((await call(lineDetailV3, apiEvent({ method: 'GET', route: route('line-detail'), params, query: { status: '2' }, cred }))).body).toMatchObject({ total_count: 0 });
    expect((await call(contentDetailV3, apiEvent({ method: 'GET', route: route('content-detail'), params, cred }))).body).toMatchObject({
      total_count: 1,
      content_compare_result_infos: [{ source_db: 'shop', difference_row_num: 2, line_compare_result: false, content_compare_result: false, status: 2, complete_shard_count: 1, total_shard_count: 1, progress: 100 }],
    });
    expect((await call(contentDiffV3, apiEvent({ method: 'GET', route: route('content-difference'), params, query: { table_name: 'orders', limit: '1', offset: '1' }, cred }))).body).toEqual({
      count: 2,
      target_meta_is_null: 1,
      source_meta_is_null: 0,
      source_target_meta_not_null: 1,
      contents_infos: [{ source_key_value: ['9'], target_key_value: ['9'], select_sql: "SELECT * FROM `shop`.`orders` WHERE `id` = '9'", target_select_sql: "SELECT * FROM `shop`.`orders` WHERE `id` = '9'" }],
    });

    // the report: a CSV file, with the differing column and both values
    const file = (await download(apiEvent({ method: 'GET', route: '/v3/{project_id}/jobs/{job_id}/compare/result/file', params: { job_id: jobId }, query: { compare_type: 'contents', compare_job_id: taskId }, cred }) as never, { awsRequestId: 'r', getRemainingTimeInMillis: () => 30_000 } as never)) as { statusCode: number; headers: Record<string, string>; body: string };
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('text/csv;charset=UTF-8');
    expect(file.headers['content-disposition']).toContain(`compare-contents-${taskId}.csv`);
    expect(file.body).toContain('shop,orders,shop,orders,100,99,2,1,0,1,INCONSISTENT,');
    expect(file.body).toContain(`shop,orders,different,"[""9""]","[""9""]",name,"[""name-9""]","[""o'brien""]"`);
  });

  it('table/compare: create (scheduled), list, start promptly, delete', async () => {
    const jobId = await newJob('INCRE_TRANSFER_STARTED');
    const route = '/v3/{project_id}/jobs/{job_id}/table/compare';
    const res = await call(createTableJob, apiEvent({ method: 'POST', route, params: { job_id: jobId }, body: { type: 'lines', compare_mode: 'quick_comparison', start_time: String(Date.now() + 3_600_000), options: { comparePolicy: 'normal' } }, cred }));
    expect(res.status).toBe(200);
    const id = res.body.id as string;
    const list = await call(listTableJobs, apiEvent({ method: 'GET', route, params: { job_id: jobId }, cred }));
    expect(list.body).toMatchObject({ count: 1, compare_jobs: [{ id, type: 'lines', status: 'WAITING_FOR_RUNNING', options: { comparePolicy: 'normal' }, export_status: 'INIT', start_time: expect.stringMatching(/Z$/) }] });

    const before = started.length;
    expect((await call(startNow, apiEvent({ method: 'POST', route: `${route}/{compare_job_id}`, params: { job_id: jobId, compare_job_id: id }, cred }))).status).toBe(200);
    expect(started.length).toBe(before + 1);
    expect(started.at(-1)).toMatchObject({ mode: 'compare', runId: id, segment: expect.any(Number) });

    const del = await call(deleteJob, apiEvent({ method: 'DELETE', route: '/v3/{project_id}/jobs/{job_id}/compare/{compare_job_id}', params: { job_id: jobId, compare_job_id: id }, cred }));
    expect(del.status).toBe(200);
    expect((await call(listTableJobs, apiEvent({ method: 'GET', route, params: { job_id: jobId }, cred }))).body).toMatchObject({ count: 0 });
    expect((await call(deleteJob, apiEvent({ method: 'DELETE', route: '/v3/{project_id}/jobs/{job_id}/compare/{compare_job_id}', params: { job_id: jobId, compare_job_id: id }, cred }))).body).toMatchObject({ error_code: 'DRS.M05003' });
    for (const body of [{ type: 'random', compare_mode: 'quick_comparison' }, { type: 'lines' }, { type: 'contents', compare_mode: 'quick_comparison', compare_transformation_infos: [{}] }]) {
      expect((await call(createTableJob, apiEvent({ method: 'POST', route, params: { job_id: jobId }, body, cred }))).status).toBe(400);
    }
  });
});
