/**
 * Per-table results from the work items, pure: the same function gives the live view of a running
 * task and the final result its last step stores.
 */
import type { CompareResult, CompareTask, CompareWork, TableResult } from './model.js';

export function aggregateTable(table: TableResult, work: CompareWork[], task: Pick<CompareTask, 'type' | 'status'>): TableResult {
  const mine = work.filter((w) => w.tableIndex === table.index);
  if (mine.length === 0) return table;
  const sum = (k: 'sourceRows' | 'targetRows' | 'missing' | 'extra' | 'different') => mine.reduce((a, w) => a + (w.status === 'done' ? w[k] : 0), 0);
  const done = mine.filter((w) => w.status === 'done');
  const failed = done.find((w) => w.failed);
  const out: TableResult = {
    ...table,
    sourceRows: sum('sourceRows'),
    targetRows: sum('targetRows'),
    missing: sum('missing'),
    extra: sum('extra'),
    different: sum('different'),
    chunks: mine.length,
    chunksDone: done.length,
  };
  out.diffRows = task.type === 'lines' ? Math.abs(out.sourceRows - out.targetRows) : out.missing + out.extra + out.different;
  let status: CompareResult;
  if (failed) {
    status = 'FAILED_TO_COMPARE';
    out.message = failed.failed;
  } else if (done.length < mine.length) {
    status = task.status === 'CANCELLED' || task.status === 'FAILED' ? 'FAILED_TO_COMPARE' : done.length || mine.some((w) => w.status === 'running') ? 'COMPARING' : 'WAITING_FOR_COMPARISON';
    if (task.status === 'CANCELLED') out.message = 'The compare was cancelled before this table was finished.';
  } else {
    status = out.diffRows === 0 && (task.type !== 'lines' || out.sourceRows === out.targetRows) ? 'CONSISTENT' : 'INCONSISTENT';
  }
  out.status = status;
  const ends = done.map((w) => w.doneAt ?? 0);
  if (done.length === mine.length && ends.length) out.endedAt = Math.max(...ends);
  return out;
}

export function aggregateTables(tables: TableResult[], work: CompareWork[], task: Pick<CompareTask, 'type' | 'status'>): TableResult[] {
  return tables.sort((a, b) => a.index - b.index).map((t) => aggregateTable(t, work, task));
}

/** A database's result from its tables' results. */
export function databaseResult(tables: TableResult[]): CompareResult {
  if (tables.some((t) => t.status === 'COMPARING')) return 'COMPARING';
  if (tables.some((t) => t.status === 'WAITING_FOR_COMPARISON')) return 'WAITING_FOR_COMPARISON';
  if (tables.length && tables.every((t) => t.status === 'TARGET_DB_NOT_EXIST')) return 'TARGET_DB_NOT_EXIST';
  if (tables.some((t) => t.status === 'FAILED_TO_COMPARE')) return 'FAILED_TO_COMPARE';
  if (tables.some((t) => t.status === 'INCONSISTENT' || t.status === 'TARGET_DB_NOT_EXIST')) return 'INCONSISTENT';
  if (tables.some((t) => t.status === 'CAN_NOT_COMPARE')) return 'CAN_NOT_COMPARE';
  return 'CONSISTENT';
}
