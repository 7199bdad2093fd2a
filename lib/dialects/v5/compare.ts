/**
 * Compares in the DRS v5 shapes (SDK models CompareResultInfo, CompareJobInfo, HealthCompareJob,
 * QueryCompareJobProgressResp, ComparePolicy): `GET /v5/.../jobs/{id}?type=compare`, the compare
 * policy, health compare jobs and compare progress. JSON types exactly as the SDK declares them:
 * TableLineCompareDetailInfo row counts are strings, ContentCompareDetailInfo row counts numbers.
 */
import { z } from 'zod';
import { cancelCompare, createCompare, findCompare, nextCompareTime, type CompareCommandDeps } from '../../compare/commands.js';
import { listTypeOf, tableName, type CompareScope, type CompareTask, type ComparePolicy, type CompareType, type ObjectDifference, type ObjectType, type TableResult } from '../../compare/model.js';
import { byDatabase, compareProgress, contentDifferences, tableResults, uncomparable, type CompareReadDeps, type DatabaseResult } from '../../compare/queries.js';
import type { EngineKind } from '../../engines/engine.js';
import { InvalidParameterError } from '../../errors.js';
import type { JobDeps } from '../../job/commands.js';
import type { Job } from '../../job/job.js';
import { compareStore } from '../../store/compare-store.js';
import { Id } from '../../validation.js';
import { StartTime } from './schemas.js';
import { page } from '../../paging.js';
import { iso } from './render.js';

const REPORT_REMAIN = -1;

export function compareJobInfoV5(t: CompareTask) {
  return {
    id: t.id,
    type: t.type,
    start_time: iso(t.startedAt ?? t.startAt ?? t.createdAt),
    end_time: iso(t.endedAt),
    status: t.status,
    compute_type: 'drs',
    export_status: t.exportStatus ?? 'INIT',
    report_remain_seconds: REPORT_REMAIN,
    compare_job_tag: t.origin === 'policy' ? { origin: 'compare_policy' } : {},
    options: t.options,
    error_msg: t.error ?? '',
    dynamic_compare_delay: 0,
  };
}

export function objectsOverviewV5(t: CompareTask | undefined) {
  if (!t) return { compare_results: [] };
  return {
    create_time: iso(t.createdAt),
    compare_results: (t.objectOverview ?? []).map((o) => ({ type: o.type, source_count: o.sourceCount, target_count: o.targetCount, status: o.status })),
    start_time: iso(t.startedAt ?? t.startAt ?? t.createdAt),
    status: t.status,
    export_status: t.exportStatus ?? 'INIT',
    report_remain_seconds: REPORT_REMAIN,
    compare_job_id: t.id,
    error_msg: t.error ?? '',
  };
}

export const objectDetailV5 = (d: ObjectDifference) => ({
  source_db_value: d.sourceValue,
  target_db_value: d.targetValue,
  source_db_name: d.sourceDb,
  target_db_name: d.targetDb,
  error_message: `${d.object}${d.targetObject !== d.object ? ` (target ${d.targetObject})` : ''}: ${d.what}`,
});

export const lineOverviewV5 = (d: DatabaseResult) => ({ source_db_name: d.sourceDb, target_db_name: d.targetDb, status: d.status });

export const lineDetailV5 = (t: TableResult) => ({
  source_table_name: tableName(t.source),
  source_row_num: String(t.sourceRows),
  target_table_name: tableName(t.target),
  target_row_num: String(t.targetRows),
  difference_row_num: String(t.diffRows),
  status: t.status,
  message: t.message ?? '',
});

export const contentOverviewV5 = (d: DatabaseResult) => ({ source_db: d.sourceDb, target_db: d.targetDb, status: d.status, compare_result: d.status === 'CONSISTENT' });

export const contentDetailV5 = (t: TableResult) => ({
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
});

export interface CompareQueryV5 {
  compare_type?: string;
  query_type?: string;
  object_type?: string;
  compare_task_id?: string;
  source_db_name?: string;
  target_db_name?: string;
  compare_detail_type?: string;
  offset: number;
  limit: number;
}

const TYPES: Record<string, CompareType[]> = { object_compare: ['object'], line_compare: ['lines'], content_compare: ['contents'], data_compare: ['object', 'lines', 'contents'] };

/** `type=compare` of job detail (seed 7.5.1): the part of CompareResultInfo the query asks for, and total_count for paged lists. */
export async function compareDetailV5(job: Job, q: CompareQueryV5, deps: CompareReadDeps): Promise<{ total_count?: number; compare_result: Record<string, unknown> }> {
  const types = TYPES[q.compare_type ?? ''];
  if (!types) throw new InvalidParameterError('compare_type', 'is required for type=compare: object_compare, line_compare, content_compare or data_compare');
  if (!q.query_type || !['overview', 'list', 'detail', 'diff'].includes(q.query_type)) throw new InvalidParameterError('query_type', 'is required for type=compare: overview, list, detail or diff');
  if (q.object_type && !['DB', 'TABLE', 'INDEX'].includes(q.object_type)) throw new InvalidParameterError('object_type', 'must be DB, TABLE or INDEX');
  if (q.compare_detail_type && !['compare', 'uncompare'].includes(q.compare_detail_type)) throw new InvalidParameterError('compare_detail_type', 'must be compare or uncompare');
  const key = { projectId: job.projectId, jobId: job.id };

  if (q.query_type === 'list' || q.compare_type === 'data_compare') {
    const tasks = (await deps.compares.listTasks(key)).filter((t) => types.includes(t.type));
    const p = page(tasks, q.offset, q.limit);
    return { total_count: p.total, compare_result: { data_compare_task_list: p.items.map(compareJobInfoV5) } };
  }
  const task = await findCompare(job.projectId, job.id, deps, q.compare_task_id, types);

  if (q.compare_type === 'object_compare') {
    if (q.query_type === 'overview') return { compare_result: { objects_compare_overview_info: objectsOverviewV5(task) } };
    const diffs = task ? (await deps.compares.listObjectDifferences(key, task.id)).filter((d) => !q.object_type || d.type === (q.object_type as ObjectType)) : [];
    const p = page(diffs, q.offset, q.limit);
    return { total_count: p.total, compare_result: { objects_compare_overview_info: objectsOverviewV5(task), objects_compare_detail_infos: p.items.map(objectDetailV5) } };
  }

  const tables = task ? await tableResults(task, deps) : [];
  const inDb = (t: TableResult) => (!q.source_db_name || t.source.db === q.source_db_name) && (!q.target_db_name || t.target.db === q.target_db_name);
  const dbs = byDatabase(tables).filter((d) => (!q.source_db_name || d.sourceDb === q.source_db_name) && (!q.target_db_name || d.targetDb === q.target_db_name));
  const info = task ? { data_compare_task_list: [compareJobInfoV5(task)] } : {};

  if (q.compare_type === 'line_compare') {
    if (q.query_type === 'overview') {
      const p = page(dbs, q.offset, q.limit);
      return { total_count: p.total, compare_result: { ...info, line_compare_overview_infos: p.items.map(lineOverviewV5) } };
    }
    const p = page(tables.filter(inDb), q.offset, q.limit);
    return { total_count: p.total, compare_result: { ...info, line_compare_detail_infos: p.items.map(lineDetailV5) } };
  }

  // content_compare
  if (q.query_type === 'overview') {
    const p = page(dbs, q.offset, q.limit);
    return { total_count: p.total, compare_result: { ...info, content_compare_overview_infos: p.items.map(contentOverviewV5) } };
  }
  if (q.query_type === 'detail') {
    const wanted = tables.filter(inDb).filter((t) => (q.compare_detail_type === 'uncompare' ? uncomparable(t) : !uncomparable(t)));
    const p = page(wanted, q.offset, q.limit);
    return { total_count: p.total, compare_result: { ...info, content_compare_detail_infos: p.items.map(contentDetailV5) } };
  }
  const diff = task ? await contentDiffV5(job.source.dbType, task, tables.filter(inDb), q.offset, q.limit, deps) : emptyDiff();
  return { total_count: diff.count, compare_result: { ...info, content_diff_detail_info: diff } };
}

const emptyDiff = () => ({ count: 0, target_meta_is_null: 0, source_meta_is_null: 0, source_target_meta_not_null: 0, contents_infos: [] as unknown[] });

/** ContentDiffDetailInfo over some tables: counts by kind (exact), listed rows paged (the stored ones). */
export async function contentDiffV5(kind: EngineKind, task: CompareTask, tables: TableResult[], offset: number, limit: number, deps: CompareReadDeps) {
  const { counts, rows } = await contentDifferences(kind, task, tables, offset, limit, deps);
  return { ...counts, contents_infos: rows.map((v) => ({ source_key_value: v.sourceKey, target_key_value: v.targetKey, source_select_sql: v.sourceSql, target_select_sql: v.targetSql })) };
}

// --- 7.7 compare management ---------------------------------------------------------------

export function comparePolicyV5(p: ComparePolicy | undefined, now = Date.now()) {
  if (!p) return { status: 'CLOSED', compare_type: [], compare_policy: 'normal' };
  const next = nextCompareTime(p, Math.max(now, (p.lastRunAt ?? 0) + 1000));
  return {
    period: p.period,
    status: p.status,
    begin_time: p.beginTime,
    end_time: p.endTime,
    compare_type: p.compareType,
    ...(next !== undefined ? { next_compare_time: iso(next) } : {}),
    compare_policy: p.comparePolicy,
    ...(p.intervalHour !== undefined ? { interval_hour: p.intervalHour } : {}),
  };
}

/** HealthCompareJob: `type` lists what the task compared, in the policy's spelling. */
export const healthCompareJobV5 = (t: CompareTask) => ({
  id: t.id,
  type: listTypeOf(t.type),
  status: t.status,
  start_time: iso(t.startedAt ?? t.startAt ?? t.createdAt),
  end_time: iso(t.endedAt),
  compute_type: 'drs',
});

export async function compareProgressV5(task: CompareTask, deps: CompareReadDeps) {
  const p = await compareProgress(task, deps);
  const speed = `${p.rowsPerSecond} rows/s`;
  return {
    full_info: { progress: p.progress, src_speed: speed, recheck_entities: 0 },
    incre_info: { delay: p.lagMillis !== undefined ? p.lagMillis / 1000 : 0, src_speed: speed, rps: p.rowsPerSecond, log_point: '', recheck_entities: 0 },
    global_info: { src_speed: speed },
  };
}


// --- 7.6.1 actions create_compare / cancel_compare ------------------------------------------

const Tables = z.record(z.string().max(128), z.looseObject({}));
/** `db_object`: Map<database, DatabaseObject> (the v5 object-selection tree), read for the names it selects. */
const CompareDbObject = z.record(z.string().max(128), z.looseObject({ all: z.unknown().optional(), tables: Tables.optional(), schemas: z.record(z.string().max(128), z.looseObject({ tables: Tables.optional() })).optional() }));

export const CompareTaskParamV5 = z
  .object({
    compare_task_id: Id.optional(),
    type: z.enum(['object', 'lines', 'contents']).optional(),
    start_time: StartTime.optional(),
    option: z.record(z.string().max(64), z.string().max(256)).optional(),
    db_object: CompareDbObject.optional(),
    data_process_info: z.array(z.unknown()).max(500).optional(),
  })
  .strict();

/** The tables a db_object names (source names); none named = everything the job selected. */
export function scopeOf(dbObject: z.infer<typeof CompareDbObject> | undefined): CompareScope[] | undefined {
  if (!dbObject) return undefined;
  const out: CompareScope[] = [];
  for (const [db, d] of Object.entries(dbObject)) {
    const tables = d.tables ? Object.keys(d.tables) : undefined;
    const schemas = d.schemas ? Object.entries(d.schemas) : [];
    if (schemas.length) for (const [schema, s] of schemas) out.push({ db, schema, ...(s.tables ? { tables: Object.keys(s.tables) } : {}) });
    else out.push({ db, ...(tables?.length ? { tables } : {}) });
  }
  return out.length ? out : undefined;
}

const withCompares = (deps: JobDeps): CompareCommandDeps => ('compares' in deps ? (deps as CompareCommandDeps) : { ...deps, compares: compareStore() });

/** `create_compare`: the new task's id is the query_id to read results with. */
export async function createCompareActionV5(projectId: string, jobId: string, raw: unknown, deps: JobDeps): Promise<string> {
  if (raw === undefined) throw new InvalidParameterError('action_params.compare_task_param', 'is required for create_compare');
  const parsed = CompareTaskParamV5.safeParse(raw);
  if (!parsed.success) throw new InvalidParameterError(`action_params.compare_task_param.${parsed.error.issues[0]!.path.join('.')}`, parsed.error.issues[0]!.message);
  const p = parsed.data;
  if (!p.type) throw new InvalidParameterError('action_params.compare_task_param.type', 'is required for create_compare: object, lines or contents');
  const { task } = await createCompare(projectId, jobId, { type: p.type, startAt: p.start_time, options: p.option, scope: scopeOf(p.db_object), origin: 'v5' }, withCompares(deps));
  return task.id;
}

/** `cancel_compare`: compare_task_param.compare_task_id names the task. */
export async function cancelCompareActionV5(projectId: string, jobId: string, raw: unknown, deps: JobDeps): Promise<void> {
  const parsed = CompareTaskParamV5.safeParse(raw ?? {});
  if (!parsed.success) throw new InvalidParameterError(`action_params.compare_task_param.${parsed.error.issues[0]!.path.join('.')}`, parsed.error.issues[0]!.message);
  if (!parsed.data.compare_task_id) throw new InvalidParameterError('action_params.compare_task_param.compare_task_id', 'is required for cancel_compare');
  await cancelCompare(projectId, jobId, parsed.data.compare_task_id, withCompares(deps));
}
