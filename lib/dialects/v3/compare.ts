/**
 * Compares in the DRS v3 shapes (seed 6.1.17 / 6.1.18 and the SDK's v3 compare operations):
 * create-compare-task, query-compare-result, the object/table compare jobs, line and content
 * overviews, details and differences, the compare report file. JSON types exactly as the SDK
 * declares them: v3 result enums spell TARGET_DB_NOT_EXIT; LineCompareDetail row counts are
 * int32, NodeContentCompareDetailResult int64; list statuses are the int codes
 * (0 inconsistent, 2 consistent, 3 target table missing, 4 failed, 5 comparing, 6 waiting, 7 cancelled, 20 database missing).
 */
import { z } from 'zod';
import { createCompare, findCompare, type CompareCommandDeps, type ConflictPolicy } from '../../compare/commands.js';
import { listTypeOf, tableName, type CompareResult, type CompareScope, type CompareTask, type CompareType, type ObjectDifference, type RowDifference, type TableResult } from '../../compare/model.js';
import { byDatabase, contentDifferences, diffView, rowDifferences, tableResults, uncomparable, type CompareReadDeps, type DatabaseResult } from '../../compare/queries.js';
import type { EngineKind } from '../../engines/engine.js';
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import { getJob } from '../../job/commands.js';
import { page } from '../../paging.js';
import { COMPARE_NOT_FOUND } from '../../store/compare-store.js';
import { Id, SafeText } from '../../validation.js';

/** v3 result enums spell "TARGET_DB_NOT_EXIT". */
export const resultV3 = (r: CompareResult) => (r === 'TARGET_DB_NOT_EXIST' ? 'TARGET_DB_NOT_EXIT' : r);
const ms = (t: number | undefined) => (t === undefined ? '' : String(t));
const isoV3 = (t: number | undefined) => (t === undefined ? '' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** The int status codes of the v3 list views. */
export function statusCodeV3(t: Pick<TableResult, 'status' | 'message'>, taskStatus?: CompareTask['status']): number {
  switch (t.status) {
    case 'CONSISTENT':
      return 2;
    case 'INCONSISTENT':
      return 0;
    case 'COMPARING':
      return 5;
    case 'WAITING_FOR_COMPARISON':
      return taskStatus === 'CANCELLED' ? 7 : 6;
    case 'TARGET_DB_NOT_EXIST':
      return 20;
    case 'CAN_NOT_COMPARE':
      return /does not exist/.test(t.message ?? '') ? 3 : 4;
    default:
      return taskStatus === 'CANCELLED' ? 7 : 4;
  }
}

const dbStatusCode = (d: DatabaseResult, task: CompareTask) => statusCodeV3({ status: d.status, message: d.tables.find((t) => t.message)?.message }, task.status);

// --- requests ---------------------------------------------------------------------------------

const CompareObjectInfo = z.object({ db_name: SafeText(128).min(1), table_name: z.array(SafeText(128)).max(10_000).optional() }).strict();
const CompareObjectInfoWithToken = z
  .object({ db_name: SafeText(128).min(1), table_name_with_token: z.array(z.object({ table_name: SafeText(128), min_token: SafeText(64).optional(), max_token: SafeText(64).optional() }).strict()).optional() })
  .strict();

export const CreateCompareTaskBodyV3 = z
  .object({
    job_id: Id,
    object_level_compare_type: z.enum(['objects', '']).optional(),
    data_level_compare_info: z
      .object({
        conflict_policy: z.enum(['cancel', 'keep']),
        compare_type: z.enum(['lines', 'contents']),
        compare_mode: z.enum(['quick_comparison', '']).optional(),
        start_time: SafeText(40).optional(),
        compare_object_infos: z.array(CompareObjectInfo).max(1000).optional(),
        compare_object_infos_with_token: z.array(CompareObjectInfoWithToken).max(1000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type CreateCompareTaskBodyV3 = z.infer<typeof CreateCompareTaskBodyV3>;

/** `""`, epoch ms (number or digits) or an ISO time; empty = now. */
export function startTimeV3(v: string | number | undefined, field = 'start_time'): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidParameterError(field, 'must be an epoch time in milliseconds or an ISO 8601 time');
  return n;
}

/** compare_object_infos → scope; PostgreSQL tables may be given as `schema.table`. */
export function scopeV3(infos: { db_name: string; table_name?: string[] }[] | undefined): CompareScope[] | undefined {
  if (!infos?.length) return undefined;
  return infos.map((i) => ({ db: i.db_name, ...(i.table_name?.length ? { tables: i.table_name } : {}) }));
}

const ERR = { error_code: '', error_msg: '' };
const failure = (e: unknown) => ({ compare_task_id: '', error_code: (e as { codes?: { v3: string } }).codes?.v3 ?? 'DRS.M00202', error_msg: (e as Error).message });

/**
 * create-compare-task (6.1.17): an object compare, a data-level (lines or contents) compare, or
 * both; neither = only list (answered with no create results). Object and content compares
 * cannot be created together. Per-part failures are reported in the part, as the seed does.
 */
export async function createCompareTaskV3(projectId: string, body: CreateCompareTaskBodyV3, deps: CompareCommandDeps) {
  const job = await getJob(projectId, body.job_id, deps);
  const objects = body.object_level_compare_type === 'objects';
  const data = body.data_level_compare_info;
  if (objects && data?.compare_type === 'contents') throw new InvalidParameterError('data_level_compare_info.compare_type', 'an object-level compare and a content compare cannot be created together');
  if (data && data.compare_mode !== 'quick_comparison' && !data.compare_object_infos?.length && !data.compare_object_infos_with_token?.length) {
    throw new InvalidParameterError('data_level_compare_info.compare_object_infos', 'is required unless compare_mode is quick_comparison');
  }
  if (data?.compare_object_infos_with_token?.length) throw new InvalidParameterError('data_level_compare_info.compare_object_infos_with_token', 'token ranges apply to Cassandra DR jobs only');
  const out: Record<string, unknown> = { job_id: job.id };
  if (objects) {
    try {
      const { task } = await createCompare(projectId, job.id, { type: 'object', origin: 'v3' }, deps);
      out.object_level_compare_create_result = { compare_task_id: task.id, ...ERR };
    } catch (e) {
      if (!(e as { codes?: unknown }).codes) throw e;
      out.object_level_compare_create_result = failure(e);
    }
  }
  if (data) {
    try {
      const policy: ConflictPolicy = data.conflict_policy;
      const { task, created } = await createCompare(
        projectId,
        job.id,
        { type: data.compare_type, startAt: startTimeV3(data.start_time, 'data_level_compare_info.start_time'), scope: scopeV3(data.compare_object_infos), options: data.compare_mode ? { compareMode: data.compare_mode } : {}, origin: 'v3' },
        deps,
        policy,
      );
      out.data_level_compare_create_result = created ? { compare_task_id: task.id, ...ERR } : { compare_task_id: task.id, error_code: 'DRS.M05005', error_msg: `An unfinished data-level compare (${task.id}) was kept (conflict_policy keep); no new compare was created.` };
    } catch (e) {
      if (!(e as { codes?: unknown }).codes) throw e;
      out.data_level_compare_create_result = failure(e);
    }
  }
  return { ...out, ...ERR };
}

export const QueryCompareResultBodyV3 = z
  .object({
    job_id: Id,
    object_level_compare_id: z.union([Id, z.literal('')]).optional(),
    line_compare_id: z.union([Id, z.literal('')]).optional(),
    content_compare_id: z.union([Id, z.literal('')]).optional(),
    current_page: z.number().int().min(0).max(1_000_000).default(1),
    per_page: z.number().int().min(0).max(1000).default(10),
  })
  .strict();
export type QueryCompareResultBodyV3 = z.infer<typeof QueryCompareResultBodyV3>;

/** current_page (1-based; 0 = everything) and per_page (0 = everything). */
function paged<T>(items: T[], currentPage: number, perPage: number): T[] {
  if (currentPage === 0 || perPage === 0) return items;
  return items.slice((currentPage - 1) * perPage, currentPage * perPage);
}

export const compareTaskListItemV3 = (t: CompareTask) => ({ compare_task_id: t.id, compare_type: listTypeOf(t.type), compare_task_status: t.status, create_time: ms(t.createdAt), end_time: ms(t.endedAt) });

async function taskOf(projectId: string, jobId: string, id: string, type: CompareType, deps: CompareReadDeps): Promise<CompareTask> {
  const t = await findCompare(projectId, jobId, deps, id, [type]);
  if (!t) throw new NotFoundError('compare task', id, COMPARE_NOT_FOUND);
  return t;
}

const objectDetailV3 = (d: ObjectDifference) => ({
  source_db_name: d.sourceDb,
  target_db_name: d.targetDb,
  source_db_value: d.sourceValue,
  target_db_value: d.targetValue,
  error_message: `${d.object}${d.targetObject !== d.object ? ` (target ${d.targetObject})` : ''}: ${d.what}`,
});

export const lineDetailV3 = (t: TableResult) => ({
  source_table_name: tableName(t.source),
  target_table_name: tableName(t.target),
  source_row_num: t.sourceRows,
  target_row_num: t.targetRows,
  diff_row_num: t.diffRows,
  line_compare_result: resultV3(t.status),
  message: t.message ?? '',
});

export const contentDetailV3 = (t: TableResult) => ({
  source_db_name: t.source.db,
  target_db_name: t.target.db,
  source_table_name: tableName(t.source),
  target_table_name: tableName(t.target),
  source_row_num: t.sourceRows,
  target_row_num: t.targetRows,
  diff_row_num: t.diffRows,
  line_compare_result: resultV3(uncomparable(t) ? t.status : t.sourceRows === t.targetRows ? 'CONSISTENT' : t.status === 'CONSISTENT' || t.status === 'INCONSISTENT' ? 'INCONSISTENT' : t.status),
  content_compare_result: resultV3(t.status),
  message: t.message ?? '',
});

/** query-compare-result (6.1.18): the named compares' results, and the job's compare task list; lists paged by current_page/per_page. */
export async function queryCompareResultV3(projectId: string, body: QueryCompareResultBodyV3, kind: EngineKind, deps: CompareReadDeps) {
  const job = await getJob(projectId, body.job_id, deps);
  const key = { projectId, jobId: job.id };
  const pg = <T>(items: T[]) => paged(items, body.current_page, body.per_page);
  const out: Record<string, unknown> = { job_id: job.id };

  if (body.object_level_compare_id) {
    const t = await taskOf(projectId, job.id, body.object_level_compare_id, 'object', deps);
    const diffs = await deps.compares.listObjectDifferences(key, t.id);
    const details: Record<string, unknown[]> = {};
    for (const d of diffs) (details[d.type] ??= []).push(objectDetailV3(d));
    for (const k of Object.keys(details)) details[k] = pg(details[k]!);
    out.object_level_compare_results = {
      compare_task_id: t.id,
      object_compare_overview: (t.objectOverview ?? []).map((o) => ({ object_type: o.type, object_compare_result: resultV3(o.status), target_count: o.targetCount, source_count: o.sourceCount, diff_count: o.diffCount })),
      object_compare_details: details,
      error_code: t.status === 'FAILED' ? 'DRS.M0004' : '',
      error_msg: t.error ?? '',
    };
  }

  if (body.line_compare_id) {
    const t = await taskOf(projectId, job.id, body.line_compare_id, 'lines', deps);
    const dbs = byDatabase(await tableResults(t, deps));
    out.line_compare_results = {
      compare_task_id: t.id,
      line_compare_overview: pg(dbs).map((d) => ({ source_db_name: d.sourceDb, target_db_name: d.targetDb, line_compare_result: resultV3(d.status) })),
      line_compare_overview_count: dbs.length,
      line_compare_details: dbs.map((d) => ({ source_db_name: d.sourceDb, line_compare_detail: pg(d.tables).map(lineDetailV3), line_compare_detail_count: d.tables.length })),
      error_code: t.status === 'FAILED' ? 'DRS.M0004' : '',
      error_msg: t.error ?? '',
    };
  }

  if (body.content_compare_id) {
    const t = await taskOf(projectId, job.id, body.content_compare_id, 'contents', deps);
    const tables = await tableResults(t, deps);
    const dbs = byDatabase(tables);
    const diffs = await rowDifferences(t, deps);
    const byTable = new Map<number, RowDifference[]>();
    for (const d of diffs) byTable.set(d.tableIndex, [...(byTable.get(d.tableIndex) ?? []), d]);
    out.content_compare_results = {
      compare_task_id: t.id,
      content_compare_overview: pg(dbs).map((d) => ({ source_db_name: d.sourceDb, target_db_name: d.targetDb, content_compare_result: resultV3(d.status) })),
      content_compare_overview_count: dbs.length,
      content_compare_details: dbs.map((d) => {
        const compared = d.tables.filter((x) => !uncomparable(x));
        const not = d.tables.filter(uncomparable);
        return { source_db_name: d.sourceDb, content_compare_detail: pg(compared).map(contentDetailV3), content_compare_detail_count: compared.length, content_uncompare_detail: pg(not).map(contentDetailV3), content_uncompare_detail_count: not.length };
      }),
      content_compare_diffs: tables
        .filter((x) => x.diffRows > 0)
        .map((x) => ({
          source_db_name: x.source.db,
          source_table_name: tableName(x.source),
          content_compare_diff: pg(byTable.get(x.index) ?? []).map((d) => {
            const v = diffView(kind, x, d);
            return { target_select_sql: v.targetSql, source_select_sql: v.sourceSql, source_key_value: v.sourceKey, target_key_value: v.targetKey };
          }),
          content_compare_diff_count: x.diffRows,
        })),
      error_code: t.status === 'FAILED' ? 'DRS.M0004' : '',
      error_msg: t.error ?? '',
    };
  }

  const tasks = await deps.compares.listTasks(key);
  out.compare_task_list_results = { compare_task_list: pg(tasks).map(compareTaskListItemV3), compare_task_list_count: tasks.length, ...ERR };
  return { ...out, ...ERR };
}

// --- the per-job v3 compare operations (SDK) --------------------------------------------------

/** CompareJobInfo of ListDataLevelTableCompareJobs (v3: proportion_value is a string). */
export const compareJobInfoV3 = (t: CompareTask) => ({
  id: t.id,
  type: t.type,
  options: t.options,
  start_time: isoV3(t.startedAt ?? t.startAt ?? t.createdAt),
  end_time: isoV3(t.endedAt),
  status: t.status,
  export_status: t.exportStatus ?? 'INIT',
  report_remain_seconds: -1,
  compare_job_tag: t.origin === 'policy' ? { origin: 'compare_policy' } : {},
});

export function objectOverviewV3(t: CompareTask | undefined) {
  if (!t) return { status: '', compare_result: [], report_remain_seconds: -1 };
  return {
    create_time: isoV3(t.createdAt),
    start_time: isoV3(t.startedAt ?? t.startAt ?? t.createdAt),
    status: t.status,
    export_status: t.exportStatus ?? 'INIT',
    report_remain_seconds: -1,
    compare_job_id: t.id,
    error_msg: t.error ?? '',
    compare_result: (t.objectOverview ?? []).map((o) => ({ type: o.type, source_count: o.sourceCount, target_count: o.targetCount, status: o.status === 'CONSISTENT' ? 2 : 0 })),
  };
}

export async function objectDetailListV3(projectId: string, jobId: string, objectType: string, compareJobId: string | undefined, offset: number, limit: number, deps: CompareReadDeps) {
  const t = await findCompare(projectId, jobId, deps, compareJobId, ['object']);
  const diffs = t ? (await deps.compares.listObjectDifferences({ projectId, jobId }, t.id)).filter((d) => d.type === objectType.toUpperCase()) : [];
  const p = page(diffs, offset, limit);
  return { count: p.total, compare_detail: p.items.map((d) => ({ ...objectDetailV3(d), status: 0 })) };
}

export async function lineOverviewV3(task: CompareTask, status: number | undefined, offset: number, limit: number, deps: CompareReadDeps) {
  const dbs = byDatabase(await tableResults(task, deps));
  const rows = dbs
    .map((d) => ({
      source_db_name: d.sourceDb,
      target_db_name: d.targetDb,
      status: dbStatusCode(d, task),
      compare_num: d.tables.length,
      compare_end_num: d.tables.filter((x) => x.status !== 'COMPARING' && x.status !== 'WAITING_FOR_COMPARISON').length,
      data_inconsistent_num: d.tables.filter((x) => x.status === 'INCONSISTENT').length,
      uncomparable_num: d.tables.filter(uncomparable).length,
    }))
    .filter((r) => status === undefined || r.status === status);
  const p = page(rows, offset, limit);
  return { total_count: p.total, items: p.items };
}

export interface TableFilterV3 {
  status?: number;
  type?: string;
  db_name?: string;
  target_db_name?: string;
  query_tb_name?: string;
}

export async function tablesV3(task: CompareTask, f: TableFilterV3, deps: CompareReadDeps): Promise<TableResult[]> {
  return (await tableResults(task, deps)).filter(
    (t) =>
      (!f.db_name || t.source.db === f.db_name) &&
      (!f.target_db_name || t.target.db === f.target_db_name) &&
      (!f.query_tb_name || tableName(t.source).toLowerCase().includes(f.query_tb_name.toLowerCase())) &&
      (f.type === undefined || (f.type.toLowerCase() === 'uncompare' ? uncomparable(t) : !uncomparable(t))) &&
      (f.status === undefined || statusCodeV3(t, task.status) === f.status),
  );
}

export const tableLineResultV3 = (t: TableResult, task: CompareTask) => ({
  source_table_name: tableName(t.source),
  source_row_num: t.sourceRows,
  target_table_name: tableName(t.target),
  target_row_num: t.targetRows,
  difference_row_num: t.diffRows,
  status: statusCodeV3(t, task.status),
  compare_line_config_filter: t.where ?? '',
});

const progressStatus = (t: TableResult, task: CompareTask) => (t.chunks > 0 && t.chunksDone === t.chunks ? 2 : task.status === 'CANCELLED' ? 4 : t.chunksDone > 0 || t.status === 'COMPARING' ? 1 : t.chunks === 0 ? 2 : 3);

export const contentTableResultV3 = (t: TableResult, task: CompareTask) => ({
  source_db: t.source.db,
  target_db: t.target.db,
  source_table_name: tableName(t.source),
  target_table_name: tableName(t.target),
  source_row_num: t.sourceRows,
  target_row_num: t.targetRows,
  difference_row_num: t.diffRows,
  line_compare_result: t.sourceRows === t.targetRows,
  content_compare_result: t.status === 'CONSISTENT',
  message: t.message ?? '',
  compare_line_config_filter: t.where ?? '',
  status: progressStatus(t, task),
  complete_shard_count: t.chunksDone,
  total_shard_count: t.chunks,
  progress: t.chunks ? Math.floor((t.chunksDone / t.chunks) * 10000) / 100 : 100,
});

/** ListContentCompareDifference: counts by kind (exact), listed rows of one table (or all) paged. */
export async function contentDifferenceV3(kind: EngineKind, task: CompareTask, f: { db_name?: string; table_name?: string }, offset: number, limit: number, deps: CompareReadDeps) {
  const tables = (await tableResults(task, deps)).filter((t) => (!f.db_name || t.source.db === f.db_name) && (!f.table_name || tableName(t.source) === f.table_name || t.source.table === f.table_name));
  const { counts, rows } = await contentDifferences(kind, task, tables, offset, limit, deps);
  return { ...counts, contents_infos: rows.map((v) => ({ source_key_value: v.sourceKey, target_key_value: v.targetKey, select_sql: v.sourceSql, target_select_sql: v.targetSql })) };
}

/** The compare report (DownloadCompareResultFile): CSV, one line per table result or object difference, then the listed rows. */
export async function compareReportCsv(kind: EngineKind, task: CompareTask, deps: CompareReadDeps): Promise<string> {
  const q = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const line = (cells: unknown[]) => cells.map(q).join(',');
  const out: string[] = [];
  if (task.type === 'object') {
    out.push(line(['object_type', 'source_db', 'target_db', 'object', 'target_object', 'difference', 'source_value', 'target_value']));
    for (const d of await deps.compares.listObjectDifferences(task, task.id)) out.push(line([d.type, d.sourceDb, d.targetDb, d.object, d.targetObject, d.what, d.sourceValue, d.targetValue]));
  } else {
    const tables = await tableResults(task, deps);
    out.push(line(['source_db', 'source_table', 'target_db', 'target_table', 'source_rows', 'target_rows', 'diff_rows', 'missing_on_target', 'extra_on_target', 'different', 'result', 'message']));
    for (const t of tables) out.push(line([t.source.db, tableName(t.source), t.target.db, tableName(t.target), t.sourceRows, t.targetRows, t.diffRows, t.missing, t.extra, t.different, t.status, t.message ?? '']));
    if (task.type === 'contents') {
      const byIndex = new Map(tables.map((t) => [t.index, t]));
      out.push('', line(['source_db', 'source_table', 'kind', 'source_key', 'target_key', 'columns', 'source_values', 'target_values', 'source_sql', 'target_sql']));
      for (const d of await rowDifferences(task, deps)) {
        const t = byIndex.get(d.tableIndex);
        if (!t) continue;
        const v = diffView(kind, t, d);
        out.push(line([t.source.db, tableName(t.source), d.kind, JSON.stringify(v.sourceKey), JSON.stringify(v.targetKey), (d.columns ?? []).join(' '), JSON.stringify(d.sourceValues ?? []), JSON.stringify(d.targetValues ?? []), v.sourceSql, v.targetSql]));
      }
    }
  }
  return out.join('\n') + '\n';
}


