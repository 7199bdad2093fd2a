/**
 * Compare results as the OMS full-verification actions will read them (ListProjectFullVerifyResult,
 * ListFullVerifyInconsistenciesResult; the seed documents their names only). Plain read functions
 * over the stored compare results, so the OMS dialect only has to shape them:
 *
 *   fullVerifyResults        one entry per table of a content (or row-count) compare: both names,
 *                            both row counts, missing / extra / different counts, the result, when
 *   fullVerifyInconsistencies one entry per listed differing row: its table, the kind, the key
 *                            columns and values (normalised text), for `different` rows the columns
 *                            that differ with both values, and a select statement per side
 *
 * "Full verification" is the newest content compare of the job unless a task id is given.
 */
import { findCompare } from './commands.js';
import type { CompareResult, CompareTask, RowDiffKind } from './model.js';
import { diffView, rowDifferences, tableResults, type CompareReadDeps } from './queries.js';
import type { EngineKind } from '../engines/engine.js';
import { getJob } from '../job/commands.js';

export interface FullVerifyTableResult {
  taskId: string;
  taskStatus: CompareTask['status'];
  sourceDb: string;
  sourceSchema?: string;
  sourceTable: string;
  targetDb: string;
  targetSchema?: string;
  targetTable: string;
  sourceRows: number;
  targetRows: number;
  /** Rows on the source only. */
  missing: number;
  /** Rows on the target only. */
  extra: number;
  /** Same key, other values. */
  different: number;
  result: CompareResult;
  message?: string;
  /** Epoch ms the table's last chunk was compared. */
  finishedAt?: number;
}

export interface FullVerifyInconsistency {
  taskId: string;
  sourceDb: string;
  sourceSchema?: string;
  sourceTable: string;
  targetDb: string;
  targetSchema?: string;
  targetTable: string;
  kind: RowDiffKind;
  /** Key columns (empty: keyless table, the row is identified by all its values). */
  keyColumns: string[];
  /** Key values (keyless: every value) on each side; empty on the side the row is missing from. */
  sourceKey: string[];
  targetKey: string[];
  /** `different` rows: the columns that differ, with each side's value (normalised text, truncated to 512 characters). */
  columns?: string[];
  sourceValues?: (string | null)[];
  targetValues?: (string | null)[];
  sourceSql: string;
  targetSql: string;
}

async function verifyTask(projectId: string, jobId: string, deps: CompareReadDeps, taskId?: string): Promise<CompareTask | undefined> {
  return findCompare(projectId, jobId, deps, taskId, ['contents', 'lines']);
}

export async function fullVerifyResults(projectId: string, jobId: string, deps: CompareReadDeps, taskId?: string): Promise<FullVerifyTableResult[]> {
  const task = await verifyTask(projectId, jobId, deps, taskId);
  if (!task) return [];
  return (await tableResults(task, deps)).map((t) => ({
    taskId: task.id,
    taskStatus: task.status,
    sourceDb: t.source.db,
    ...(t.source.schema !== undefined ? { sourceSchema: t.source.schema } : {}),
    sourceTable: t.source.table,
    targetDb: t.target.db,
    ...(t.target.schema !== undefined ? { targetSchema: t.target.schema } : {}),
    targetTable: t.target.table,
    sourceRows: t.sourceRows,
    targetRows: t.targetRows,
    missing: t.missing,
    extra: t.extra,
    different: t.different,
    result: t.status,
    ...(t.message ? { message: t.message } : {}),
    ...(t.endedAt !== undefined ? { finishedAt: t.endedAt } : {}),
  }));
}

export async function fullVerifyInconsistencies(
  projectId: string,
  jobId: string,
  deps: CompareReadDeps,
  opts: { taskId?: string; sourceDb?: string; sourceTable?: string } = {},
): Promise<FullVerifyInconsistency[]> {
  const job = await getJob(projectId, jobId, deps);
  const task = await verifyTask(projectId, jobId, deps, opts.taskId);
  if (!task || task.type !== 'contents') return [];
  const kind: EngineKind = job.source.dbType;
  const tables = new Map((await tableResults(task, deps)).filter((t) => (!opts.sourceDb || t.source.db === opts.sourceDb) && (!opts.sourceTable || t.source.table === opts.sourceTable)).map((t) => [t.index, t]));
  const out: FullVerifyInconsistency[] = [];
  for (const d of await rowDifferences(task, deps)) {
    const t = tables.get(d.tableIndex);
    if (!t) continue;
    const v = diffView(kind, t, d);
    out.push({
      taskId: task.id,
      sourceDb: t.source.db,
      ...(t.source.schema !== undefined ? { sourceSchema: t.source.schema } : {}),
      sourceTable: t.source.table,
      targetDb: t.target.db,
      ...(t.target.schema !== undefined ? { targetSchema: t.target.schema } : {}),
      targetTable: t.target.table,
      kind: d.kind,
      keyColumns: t.keyColumns,
      sourceKey: v.sourceKey,
      targetKey: v.targetKey,
      ...(d.kind === 'different' ? { columns: d.columns, sourceValues: d.sourceValues, targetValues: d.targetValues } : {}),
      sourceSql: v.sourceSql,
      targetSql: v.targetSql,
    });
  }
  return out;
}
