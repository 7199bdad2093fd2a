/**
 * The compare (verification) domain: a compare task of a job and its results, one canonical
 * shape behind the v3, v5 and (later) OMS views. Plain data, no I/O.
 *
 * Three kinds of task (seed Appendix E): `object` (databases, tables, columns, keys, indexes),
 * `lines` (row counts per table) and `contents` (per-chunk digests computed in both databases,
 * differing chunks narrowed to the differing rows). Every result is read from both databases by
 * the compare itself (DESIGN §5 rule 5), never from the copy path's bookkeeping.
 */
import type { HashKind, ObjectColumn, TableRef } from '../engines/engine.js';

export type CompareType = 'object' | 'lines' | 'contents';

/** Task statuses (seed: RUNNING|WAITING_FOR_RUNNING|SUCCESSFUL|FAILED|CANCELLED; the rest are never entered here). */
export type CompareTaskStatus = 'WAITING_FOR_RUNNING' | 'RUNNING' | 'SUCCESSFUL' | 'FAILED' | 'CANCELLED';
export const UNFINISHED: readonly CompareTaskStatus[] = ['WAITING_FOR_RUNNING', 'RUNNING'];

/** Result of one object type / database / table (v5 spelling; v3 renders TARGET_DB_NOT_EXIT). */
export type CompareResult = 'CONSISTENT' | 'INCONSISTENT' | 'COMPARING' | 'WAITING_FOR_COMPARISON' | 'FAILED_TO_COMPARE' | 'TARGET_DB_NOT_EXIST' | 'CAN_NOT_COMPARE';

/** Which of the job's selected tables a task covers (source names); absent = all of them. */
export interface CompareScope {
  db: string;
  schema?: string;
  /** Absent = every selected table of the database (schema). */
  tables?: string[];
}

export interface CompareTask {
  id: string;
  projectId: string;
  jobId: string;
  type: CompareType;
  status: CompareTaskStatus;
  createdAt: number;
  /** Scheduled start (epoch ms); the task waits as WAITING_FOR_RUNNING until then. */
  startAt?: number;
  startedAt?: number;
  endedAt?: number;
  /** Seed `option` / `options` map (comparePolicy, contentCompareType, lobCompare…), stored and echoed. */
  options: Record<string, string>;
  scope?: CompareScope[];
  /** Who created it: an API call, or the periodic compare policy (health compare). */
  origin: 'v3' | 'v5' | 'oms' | 'policy';
  error?: string;
  /** Work planned / done (tables for lines, chunks for contents). */
  workTotal?: number;
  workDone?: number;
  /** Rows digested so far (both sides), for the progress views. */
  rowsCompared?: number;
  /** Rows that differed once and are waiting to be re-checked after the CDC lag. */
  recheckPending?: number;
  /** Object compare: per object type counts (small, kept on the task). */
  objectOverview?: ObjectOverview[];
  /** Report export (v3 compare/result/file). */
  exportStatus?: 'INIT' | 'EXPORTING' | 'EXPORT_COMPLETE' | 'EXPORT_COMMON_FAILED';
  exportedAt?: number;
}

export type ObjectType = 'DB' | 'TABLE' | 'INDEX';

export interface ObjectOverview {
  type: ObjectType;
  sourceCount: number;
  targetCount: number;
  diffCount: number;
  status: CompareResult;
}

/** One difference found by the object compare. */
export interface ObjectDifference {
  type: ObjectType;
  sourceDb: string;
  targetDb: string;
  /** The object, source name (`db.table`, `db.table.index`…). */
  object: string;
  /** The object's target name. */
  targetObject: string;
  /** What differs: `missing on target`, `column c type`, `column c nullable`, `index i columns`… */
  what: string;
  sourceValue: string;
  targetValue: string;
}

/** One selected table of a lines/contents task, and its result. */
export interface TableResult {
  index: number;
  source: TableRef;
  target: TableRef;
  where?: string;
  /** Columns compared, with each side's types (they decide normalisation). */
  sourceColumns: ObjectColumn[];
  targetColumns: ObjectColumn[];
  keyColumns: string[];
  /**
   * The target's names where the job renames or drops columns: the key columns, and the row filter
   * (`''`: none, the filter uses a dropped column; the target holds only rows inside it anyway).
   * Absent: the same as on the source.
   */
  targetKeyColumns?: string[];
  targetWhere?: string;
  /** The row hash both sides compute (the best both offer; chosen when planned). */
  hash?: HashKind;
  /** Average row size on the source (throttling estimates). */
  avgRowBytes: number;
  status: CompareResult;
  sourceRows: number;
  targetRows: number;
  /** lines: |source − target|; contents: rows missing + extra + different. */
  diffRows: number;
  missing: number;
  extra: number;
  different: number;
  chunks: number;
  chunksDone: number;
  /** Why a table could not be compared, or a note on the result. */
  message?: string;
  startedAt?: number;
  endedAt?: number;
}

export type RowDiffKind = 'missing' | 'extra' | 'different';

/** Longest value kept in a stored row difference. */
export const MAX_STORED_VALUE = 512;

/**
 * One differing row: `missing` (on the target), `extra` (on the target), or `different` (same
 * key, other values; `columns` names the columns that differ, with each side's value).
 * Keyless tables have no key: their rows are identified by their values.
 */
export interface RowDifference {
  tableIndex: number;
  kind: RowDiffKind;
  /** Key values as normalised text, in key column order (empty for keyless tables). */
  key: string[];
  /** Key values as the driver reads them, to look the row up again. */
  rawKey?: unknown[];
  columns?: string[];
  /** Values of `columns` (different) or of every column (keyless rows), normalised text, truncated. */
  sourceValues?: (string | null)[];
  targetValues?: (string | null)[];
}

/** A unit of work for the compare workers: one table's row count, or one key range's digests. */
export interface CompareWork {
  tableIndex: number;
  n: number;
  kind: 'count' | 'digest';
  lower?: unknown[];
  upper?: unknown[];
  status: 'pending' | 'running' | 'done';
  leaseOwner?: string;
  leaseUntil?: number;
  attempts: number;
  sourceRows: number;
  targetRows: number;
  missing: number;
  extra: number;
  different: number;
  /** Differences stored as items (at most MAX_DIFFS_PER_WORK). */
  stored: number;
  /** The table could not be compared (message says why). */
  failed?: string;
  doneAt?: number;
}

/** Periodic compare policy (seed 7.7.1). */
export interface ComparePolicy {
  status: 'OPEN' | 'CLOSED';
  /** `* * 1,2,…,7`: weekdays (1 = Monday). */
  period?: string;
  /** UTC `HH:mm:ss`. */
  beginTime?: string;
  endTime?: string;
  /** `object_comparison|lines|account` (seed spelling), as given. */
  compareType: string[];
  comparePolicy: 'normal' | 'manyToOne';
  intervalHour?: number;
  lastRunAt?: number;
  updatedAt: number;
}

/** Task type as the list views spell it. */
export const listTypeOf = (t: CompareType) => (t === 'object' ? 'object_comparison' : t);

export const isFinished = (s: CompareTaskStatus) => !UNFINISHED.includes(s);

export const refName = (r: TableRef) => [r.db, r.schema, r.table].filter((x) => x !== undefined).join('.');
/** The database a table is grouped under in the database-level views. */
export const dbName = (r: TableRef) => r.db;
/** A table's name within its database: `table`, or `schema.table` on PostgreSQL. */
export const tableName = (r: TableRef) => (r.schema !== undefined ? `${r.schema}.${r.table}` : r.table);
