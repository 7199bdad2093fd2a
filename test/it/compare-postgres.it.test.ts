/**
 * Compare on real PostgreSQL servers, driven through the v5 and v3 APIs of the in-process
 * runtime: a full load (two schemas, 1,000,000-row table, keyless table with duplicate rows), then
 * object, row-count and content compares that must find nothing; then the target is changed
 * behind the job's back (a row deleted, a row inserted, values changed, NULL turned into '', an
 * integer column widened and a numeric column given a larger scale, one of two duplicate keyless
 * rows deleted) and each compare must find exactly those differences and nothing else.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/client.js';
import { allDiffs, compareCsvReport, compareDetail, createCompareV5, waitCompare } from '../helpers/compare.js';
import { requireBinaries, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { pgClient } from '../helpers/dumps.js';
import { createJobBody } from '../helpers/jobs.js';
import { ROOT, startLocal, type LocalService } from '../helpers/local.js';

const run = requireBinaries('postgresql');
let src: DbServer;
let dst: DbServer;
let svc: LocalService;
let api: ReturnType<typeof apiClient>;
let jobId: string;
const ROWS = 1_000_000;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

beforeAll(async () => {
  if (!run) return;
  process.env.DRS_ROWS_PER_CHUNK = '100000';
  process.env.DRS_COMPARE_ROWS_PER_CHUNK = '100000';
  [src, dst] = await Promise.all([startPostgres(), startPostgres()]);
  for (const s of [src, dst]) {
    const c = await pgClient(s);
    await c.query('CREATE DATABASE shop');
    await c.end();
  }
  const c = await pgClient(src, 'shop');
  await c.query(readFileSync(path.join(ROOT, 'test/fixtures/sql/postgres-shop.sql'), 'utf8'));
  // The fixture has 200,000 rows in big; the server generates the rest up to 1,000,000.
  await c.query(`INSERT INTO public.big SELECT g, 'row-' || g || '-' || repeat('x', g % 40), g % 1000, timestamp '2020-01-01' + g * interval '1 second' FROM generate_series(200001, ${ROWS}) g`);
  await c.query('ANALYZE');
  await c.end();
  svc = await startLocal();
  api = apiClient(svc.url, svc.cred);
}, 180_000);

afterAll(async () => {
  await svc?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

async function v3Lines(): Promise<Json> {
  const created = await api.ok('POST', '/v3/{project_id}/jobs/create-compare-task', { body: { job_id: jobId, data_level_compare_info: { conflict_policy: 'cancel', compare_type: 'lines', compare_mode: 'quick_comparison' } } });
  const taskId = created.data_level_compare_create_result.compare_task_id as string;
  expect(created.data_level_compare_create_result.error_code).toBe('');
  await waitCompare(api, jobId, taskId);
  const res = await api.ok('POST', '/v3/{project_id}/jobs/query-compare-result', { body: { job_id: jobId, line_compare_id: taskId, current_page: 1, per_page: 100 } });
  expect(res.compare_task_list_results.compare_task_list.map((t: Json) => t.compare_task_id)).toContain(taskId);
  return res.line_compare_results;
}

/** Per table: [source rows, target rows, result]. */
const lineTable = (r: Json) => Object.fromEntries(r.line_compare_details.flatMap((d: Json) => d.line_compare_detail).map((t: Json) => [t.source_table_name, [t.source_row_num, t.target_row_num, t.line_compare_result]]));

const csvReport = (taskId: string, type: string) => compareCsvReport(svc, jobId, taskId, type);


describe.runIf(run)('compare PostgreSQL → PostgreSQL', () => {
  it('migrates the shop database (two schemas) with a 1,000,000-row table', async () => {
    const created = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'pg-compare', engine: 'postgresql', source: src, target: dst, sourceDb: 'shop', targetDb: 'shop' }) });
    jobId = created.id as string;
    await api.until(jobId, (j) => j.status === 'CONFIGURATION');
    const pre = await api.precheck(jobId);
    expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))).toBe(true);
    await api.action(jobId, 'start');
    const done = await api.until(jobId, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 150_000);
    expect(done.status, JSON.stringify(done)).toBe('FULL_TRANSFER_COMPLETE');
  });

  it('finds no object difference after the migration', async () => {
    const taskId = await createCompareV5(api, jobId, 'object');
    expect((await waitCompare(api, jobId, taskId)).status).toBe('SUCCESSFUL');
    const o = await compareDetail(api, jobId, { compare_type: 'object_compare', query_type: 'overview', compare_task_id: taskId });
    const overview = o.compare_result.objects_compare_overview_info;
    expect(overview.status).toBe('SUCCESSFUL');
    expect(overview.compare_results).toEqual([
      { type: 'DB', source_count: 2, target_count: 2, status: 'CONSISTENT' },
      { type: 'TABLE', source_count: 5, target_count: 5, status: 'CONSISTENT' },
      { type: 'INDEX', source_count: 5, target_count: 5, status: 'CONSISTENT' },
    ]);
    const d = await compareDetail(api, jobId, { compare_type: 'object_compare', query_type: 'detail', compare_task_id: taskId });
    expect(d.total_count).toBe(0);
  });

  it('finds equal row counts after the migration (v3 create-compare-task / query-compare-result)', async () => {
    const r = await v3Lines();
    expect(r.line_compare_overview).toEqual([{ source_db_name: 'shop', target_db_name: 'shop', line_compare_result: 'CONSISTENT' }]);
    expect(lineTable(r)).toEqual({ 'public.all_types': [3, 3, 'CONSISTENT'], 'sales.composite': [5, 5, 'CONSISTENT'], 'public.keyless': [5, 5, 'CONSISTENT'], 'public.empty_t': [0, 0, 'CONSISTENT'], 'public.big': [ROWS, ROWS, 'CONSISTENT'] });
  });

  it('finds no content difference after the migration, over 1,000,000 rows in chunks', async () => {
    const t0 = Date.now();
    const taskId = await createCompareV5(api, jobId, 'contents');
    expect((await waitCompare(api, jobId, taskId)).status).toBe('SUCCESSFUL');
    console.log(`PostgreSQL content compare of ${ROWS + 13} rows: ${Date.now() - t0} ms`);
    const o = await compareDetail(api, jobId, { compare_type: 'content_compare', query_type: 'overview', compare_task_id: taskId });
    expect(o.compare_result.content_compare_overview_infos).toEqual([{ source_db: 'shop', target_db: 'shop', status: 'CONSISTENT', compare_result: true }]);
    const d = await compareDetail(api, jobId, { compare_type: 'content_compare', query_type: 'detail', compare_task_id: taskId, limit: '100' });
    const big = d.compare_result.content_compare_detail_infos.find((t: Json) => t.source_table_name === 'public.big');
    expect(big).toMatchObject({ source_row_num: ROWS, target_row_num: ROWS, difference_row_num: 0, line_compare_result: true, content_compare_result: true });
    expect(d.total_count).toBe(5);
    expect((await allDiffs(api, jobId, taskId)).count).toBe(0);
    const progress = await api.ok('GET', '/v5/{project_id}/jobs/{job_id}/compare-progress/{compare_job_id}', { path: { job_id: jobId, compare_job_id: taskId } });
    expect(progress.full_info.progress).toBe(100);
  });

  it('finds exactly the changes made to the target behind the job’s back', async () => {
    const c = await pgClient(dst, 'shop');
    await c.query(`DELETE FROM sales.composite WHERE a = 1 AND b = 'y';
      UPDATE sales.composite SET v = '' WHERE a = 2 AND b = 'x';
      INSERT INTO public.big VALUES (${ROWS + 1}, 'extra', 1, '2021-01-01 00:00:00');
      UPDATE public.big SET a = 'changed' WHERE id = 654321;
      ALTER TABLE public.all_types ALTER COLUMN t_int TYPE bigint, ALTER COLUMN t_num TYPE numeric(24,8);
      DELETE FROM public.keyless WHERE ctid = (SELECT ctid FROM public.keyless WHERE x = 1 LIMIT 1);`);
    await c.end();

    // object compare: only the two retyped columns
    const objectTask = await createCompareV5(api, jobId, 'object');
    await waitCompare(api, jobId, objectTask);
    const od = await compareDetail(api, jobId, { compare_type: 'object_compare', query_type: 'detail', compare_task_id: objectTask, object_type: 'TABLE' });
    expect(od.total_count).toBe(2);
    expect(od.compare_result.objects_compare_detail_infos).toEqual([
      { source_db_name: 'shop', target_db_name: 'shop', source_db_value: 'integer', target_db_value: 'bigint', error_message: 'shop.public.all_types: column t_int type' },
      { source_db_name: 'shop', target_db_name: 'shop', source_db_value: 'numeric(20,6)', target_db_value: 'numeric(24,8)', error_message: 'shop.public.all_types: column t_num type' },
    ]);
    const oo = await compareDetail(api, jobId, { compare_type: 'object_compare', query_type: 'overview', compare_task_id: objectTask });
    expect(oo.compare_result.objects_compare_overview_info.compare_results.map((r: Json) => [r.type, r.status])).toEqual([['DB', 'CONSISTENT'], ['TABLE', 'INCONSISTENT'], ['INDEX', 'CONSISTENT']]);

    // row counts: the deleted and inserted rows
    const lines = lineTable(await v3Lines());
    expect(lines).toEqual({ 'public.all_types': [3, 3, 'CONSISTENT'], 'sales.composite': [5, 4, 'INCONSISTENT'], 'public.keyless': [5, 4, 'INCONSISTENT'], 'public.empty_t': [0, 0, 'CONSISTENT'], 'public.big': [ROWS, ROWS + 1, 'INCONSISTENT'] });

    // contents: the five changed rows, nothing else (the retyped columns hold the same values)
    const taskId = await createCompareV5(api, jobId, 'contents');
    await waitCompare(api, jobId, taskId);
    const diffs = await allDiffs(api, jobId, taskId);
    expect(diffs.detail).toMatchObject({ count: 5, target_meta_is_null: 2, source_meta_is_null: 1, source_target_meta_not_null: 2 });
    const keys = diffs.infos.map((i) => [i.source_key_value, i.target_key_value]);
    expect(keys).toEqual(
      expect.arrayContaining([
        [['1', 'y'], []],
        [['2', 'x'], ['2', 'x']],
        [[], [String(ROWS + 1)]],
        [['654321'], ['654321']],
        [['1', 'dup'], []],
      ]),
    );
    expect(diffs.infos).toHaveLength(5);
    const detail = await compareDetail(api, jobId, { compare_type: 'content_compare', query_type: 'detail', compare_task_id: taskId, limit: '100' });
    const byTable = Object.fromEntries(detail.compare_result.content_compare_detail_infos.map((t: Json) => [t.source_table_name, [t.difference_row_num, t.content_compare_result]]));
    expect(byTable).toEqual({ 'public.all_types': [0, true], 'sales.composite': [2, false], 'public.keyless': [1, false], 'public.empty_t': [0, true], 'public.big': [2, false] });
    expect(diffs.infos.find((i) => i.source_key_value[0] === '654321')).toMatchObject({ source_select_sql: `SELECT * FROM "public"."big" WHERE "id" = '654321'`, target_select_sql: `SELECT * FROM "public"."big" WHERE "id" = '654321'` });

    // the report names the differing columns, with both values (NULL vs '' told apart)
    const csv = await csvReport(taskId, 'contents');
    const rows = csv.filter((r) => ['missing', 'extra', 'different'].includes(r[2]!)).map((r) => [r[1], r[2], r[3], r[5], r[6], r[7]]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['sales.composite', 'missing', '["1","y"]', '', '[]', '[]'],
        ['sales.composite', 'different', '["2","x"]', 'v', '[null]', '[""]'],
        ['public.big', 'extra', '[]', '', '[]', '[]'],
        ['public.big', 'different', '["654321"]', 'a', `["row-654321-${'x'.repeat(654321 % 40)}"]`, '["changed"]'],
        ['public.keyless', 'missing', '["1","dup"]', '', '["1","dup"]', '[]'],
      ]),
    );
    expect(rows).toHaveLength(5);
  });
});
