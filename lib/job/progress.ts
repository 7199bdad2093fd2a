/**
 * Progress of a job, computed from its stored plan (tables, chunks) and run state: per table and
 * overall rows done / estimated, percentages, remaining time, lag. Pure; every dialect renders it.
 */
import type { ChunkRecord, TableRecord } from '../store/job-store.js';
import type { Job } from './job.js';

export interface TableProgress {
  index: number;
  source: TableRecord['source'];
  target: TableRecord['target'];
  estimatedRows: number;
  rowsDone: number;
  chunks: number;
  chunksDone: number;
  status: 'pending' | 'running' | 'done';
  /** 0–100. */
  percent: number;
}

export interface JobProgress {
  /** Overall 0–100 (integer). */
  percent: number;
  structPercent: number;
  dataPercent: number;
  indexPercent: number;
  rowsDone: number;
  rowsEstimated: number;
  bytesDone: number;
  chunks: number;
  chunksDone: number;
  /** Seconds since the full load started. */
  elapsedSeconds: number;
  /** Estimated seconds left for the full load; 0 when done. */
  remainingSeconds: number;
  /** Replication lag (seconds / ms) when incremental. */
  lagSeconds?: number;
  lagMillis?: number;
  tables: TableProgress[];
}

export function computeProgress(job: Job, tables: TableRecord[], chunks: ChunkRecord[], now = Date.now()): JobProgress {
  const byTable = new Map<number, ChunkRecord[]>();
  for (const c of chunks) byTable.set(c.tableIndex, [...(byTable.get(c.tableIndex) ?? []), c]);
  const tp: TableProgress[] = tables.map((t) => {
    const cs = byTable.get(t.index) ?? [];
    const done = cs.filter((c) => c.status === 'done');
    const rowsDone = done.reduce((a, c) => a + c.rows, 0);
    const allDone = cs.length > 0 && done.length === cs.length;
    const est = Math.max(t.estimatedRows, rowsDone);
    return {
      index: t.index,
      source: t.source,
      target: t.target,
      estimatedRows: allDone ? rowsDone : est,
      rowsDone,
      chunks: cs.length,
      chunksDone: done.length,
      status: allDone ? 'done' : cs.some((c) => c.status !== 'pending') || done.length ? 'running' : 'pending',
      percent: allDone ? 100 : est > 0 ? Math.min(99, Math.floor((rowsDone / est) * 100)) : cs.length ? Math.floor((done.length / cs.length) * 100) : 0,
    };
  });
  const rowsDone = tp.reduce((a, t) => a + t.rowsDone, 0);
  const rowsEstimated = tp.reduce((a, t) => a + t.estimatedRows, 0);
  const chunksDone = chunks.filter((c) => c.status === 'done').length;
  const bytesDone = chunks.reduce((a, c) => a + (c.status === 'done' ? c.bytes : 0), 0);
  const run = job.run;
  const fullDone = !!run?.fullLoadCompletedAt;
  const structPercent = run?.schemaCopied || fullDone ? 100 : 0;
  const dataPercent = fullDone ? 100 : chunks.length ? (rowsEstimated > 0 ? Math.min(99, Math.floor((rowsDone / rowsEstimated) * 100)) : Math.floor((chunksDone / chunks.length) * 100)) : 0;
  const indexPercent = run?.indexesCreated ? 100 : 0;
  const started = run?.fullLoadStartedAt;
  const elapsedSeconds = started ? Math.max(0, Math.round(((run?.fullLoadCompletedAt ?? now) - started) / 1000)) : 0;
  const rate = elapsedSeconds > 0 ? rowsDone / elapsedSeconds : 0;
  const remainingSeconds = fullDone ? 0 : rate > 0 ? Math.max(0, Math.round((rowsEstimated - rowsDone) / rate)) : 0;
  let percent: number;
  if (job.taskType === 'INCR_TRANS') percent = job.status === 'INCRE_TRANSFER_STARTED' ? 100 : 0;
  else percent = fullDone ? 100 : Math.floor(structPercent * 0.05 + dataPercent * 0.9 + indexPercent * 0.05);
  const cdc = run?.cdc;
  return {
    percent,
    structPercent,
    dataPercent,
    indexPercent,
    rowsDone,
    rowsEstimated,
    bytesDone,
    chunks: chunks.length,
    chunksDone,
    elapsedSeconds,
    remainingSeconds,
    lagMillis: cdc?.lagMillis,
    lagSeconds: cdc === undefined ? undefined : Math.floor(cdc.lagMillis / 1000),
    tables: tp,
  };
}
