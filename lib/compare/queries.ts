/**
 * Read side of compares: a task with its tables' results (live while it runs), grouped by
 * database, its row differences, its progress. Every API dialect renders from these.
 */
import type { EngineKind } from '../engines/engine.js';
import { getJob } from '../job/commands.js';
import { page } from '../paging.js';
import type { JobStore } from '../store/job-store.js';
import type { CompareStore } from '../store/compare-store.js';
import { dbName, type CompareResult, type CompareTask, type RowDifference, type TableResult } from './model.js';
import { aggregateTables, databaseResult } from './results.js';

export type CompareReadDeps = { jobs: JobStore; compares: CompareStore };

const jobKey = (t: Pick<CompareTask, 'projectId' | 'jobId'>) => ({ projectId: t.projectId, jobId: t.jobId });

/** The task's tables with their results, from its work items (live while it runs; final once it ended). */
export async function tableResults(task: CompareTask, deps: CompareReadDeps): Promise<TableResult[]> {
  const [tables, work] = await Promise.all([deps.compares.listTables(jobKey(task), task.id), deps.compares.listWork(jobKey(task), task.id)]);
  return aggregateTables(tables, work, task);
}

export interface DatabaseResult {
  sourceDb: string;
  targetDb: string;
  status: CompareResult;
  tables: TableResult[];
}

/** Tables grouped by source database, in plan order. */
export function byDatabase(tables: TableResult[]): DatabaseResult[] {
  const out = new Map<string, DatabaseResult>();
  for (const t of tables) {
    const k = JSON.stringify([dbName(t.source), dbName(t.target)]);
    let d = out.get(k);
    if (!d) out.set(k, (d = { sourceDb: dbName(t.source), targetDb: dbName(t.target), status: 'CONSISTENT', tables: [] }));
    d.tables.push(t);
  }
  for (const d of out.values()) d.status = databaseResult(d.tables);
  return [...out.values()];
}

/** Tables that could not be compared at all (target missing, columns missing): listed apart by the content views. */
export const uncomparable = (t: TableResult) => t.status === 'CAN_NOT_COMPARE' || t.status === 'TARGET_DB_NOT_EXIST';

export async function rowDifferences(task: CompareTask, deps: CompareReadDeps, tableIndex?: number): Promise<RowDifference[]> {
  return deps.compares.listRowDifferences(jobKey(task), task.id, tableIndex);
}

export interface CompareProgress {
  /** 0–100. */
  progress: number;
  workDone: number;
  workTotal: number;
  rowsCompared: number;
  /** Rows per second since the task started. */
  rowsPerSecond: number;
  /** The job's current incremental lag (ms), when incremental sync runs. */
  lagMillis?: number;
}

export async function compareProgress(task: CompareTask, deps: CompareReadDeps): Promise<CompareProgress> {
  const work = task.type === 'object' ? [] : await deps.compares.listWork(jobKey(task), task.id);
  const done = work.filter((w) => w.status === 'done');
  const workTotal = task.type === 'object' ? 1 : work.length;
  const workDone = task.type === 'object' ? (task.objectOverview ? 1 : 0) : done.length;
  const rowsCompared = done.reduce((a, w) => a + w.sourceRows + w.targetRows, 0);
  const elapsed = Math.max(1, ((task.endedAt ?? Date.now()) - (task.startedAt ?? task.createdAt)) / 1000);
  const finished = task.status === 'SUCCESSFUL';
  const job = await getJob(task.projectId, task.jobId, deps);
  return {
    progress: finished ? 100 : workTotal ? Math.floor((workDone / workTotal) * 100) : 0,
    workDone,
    workTotal,
    rowsCompared,
    rowsPerSecond: task.startedAt ? Math.round(rowsCompared / elapsed) : 0,
    ...(job.status === 'INCRE_TRANSFER_STARTED' ? { lagMillis: job.run?.cdc?.lagMillis ?? 0 } : {}),
  };
}

// --- the select statements a difference is shown with ---------------------------------------

const myId = (n: string) => '`' + n.replace(/`/g, '``') + '`';
const pgId = (n: string) => '"' + n.replace(/"/g, '""') + '"';
const myLit = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const pgLit = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * `SELECT * FROM <table> WHERE <key> = <value>…`, to look a differing row up by hand. Display
 * only: never executed by the service. Values are the normalised texts, quoted for the dialect
 * (hex of binary MySQL values as X'..').
 */
export function selectSql(kind: EngineKind, side: Pick<TableResult, 'source'> & { columns: { name: string; dataType: string }[] }, columns: string[], values: (string | null)[]): string {
  const id = kind === 'mysql' ? myId : pgId;
  const ref = side.source;
  const table = kind === 'mysql' ? `${id(ref.db)}.${id(ref.table)}` : `${id(ref.schema ?? 'public')}.${id(ref.table)}`;
  const conds = columns.map((c, i) => {
    const v = values[i] ?? null;
    if (v === null) return `${id(c)} IS NULL`;
    const type = side.columns.find((x) => x.name === c)?.dataType ?? '';
    if (kind === 'mysql' && /binary|blob|geometry|point|linestring|polygon/.test(type)) return `${id(c)} = X'${v.replace(/[^0-9A-Fa-f]/g, '')}'`;
    return `${id(c)} = ${kind === 'mysql' ? myLit(v) : pgLit(v)}`;
  });
  return `SELECT * FROM ${table}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`;
}

/** What one row difference shows: key values on each side and the select statements. */
export function diffView(kind: EngineKind, t: TableResult, d: RowDifference) {
  const keyed = t.keyColumns.length > 0;
  const cols = keyed ? t.keyColumns : t.sourceColumns.map((c) => c.name);
  const targetCols = keyed ? (t.targetKeyColumns ?? t.keyColumns) : t.targetColumns.map((c) => c.name);
  const sourceVals = keyed ? d.key : (d.sourceValues ?? []);
  const targetVals = keyed ? d.key : (d.targetValues ?? []);
  const onSource = d.kind !== 'extra';
  const onTarget = d.kind !== 'missing';
  return {
    sourceKey: onSource ? sourceVals.map((v) => v ?? 'NULL') : [],
    targetKey: onTarget ? targetVals.map((v) => v ?? 'NULL') : [],
    sourceSql: onSource ? selectSql(kind, { source: t.source, columns: t.sourceColumns }, cols, sourceVals) : '',
    targetSql: onTarget ? selectSql(kind, { source: t.target, columns: t.targetColumns }, targetCols, targetVals) : '',
  };
}

/**
 * Differing rows of some tables, paged (the stored ones), with the exact counts by kind over those
 * tables: what v3 ListContentCompareDifference and v5 ContentDiffDetailInfo show, in their own names.
 */
export async function contentDifferences(kind: EngineKind, task: CompareTask, tables: TableResult[], offset: number, limit: number, deps: CompareReadDeps) {
  const byIndex = new Map(tables.map((t) => [t.index, t]));
  const diffs = (await rowDifferences(task, deps)).filter((d) => byIndex.has(d.tableIndex));
  return {
    counts: {
      count: tables.reduce((a, t) => a + t.missing + t.extra + t.different, 0),
      target_meta_is_null: tables.reduce((a, t) => a + t.missing, 0),
      source_meta_is_null: tables.reduce((a, t) => a + t.extra, 0),
      source_target_meta_not_null: tables.reduce((a, t) => a + t.different, 0),
    },
    rows: page(diffs, offset, limit).items.map((d) => diffView(kind, byIndex.get(d.tableIndex)!, d)),
  };
}
