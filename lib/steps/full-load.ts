/**
 * Schema copy and the chunked, resumable full load (DESIGN §5 rules 1, 2, 6, 7).
 *
 * 1. copySchema: read the selected tables from the source, create them under their target names
 *    and with their column renames and drops (secondary indexes deferred by default), record one
 *    TABLE item per table. Skipped when done.
 * 2. planChunks: split every table into primary-key ranges, one CHUNK item each (pending).
 *    Skipped when already planned, so a resumed run keeps its plan and its done chunks.
 * 3. loadChunks (one per parallel worker): claim a pending chunk (or one whose worker died and
 *    whose lease expired), copy it page by page with idempotent upserts, mark it done with its
 *    row count. A crash redoes at most the chunks in flight; done chunks are never copied again.
 * 4. finishFullLoad: when every chunk is done, create the deferred indexes and hand over to
 *    incremental sync (FULL_INCR_TRANS) or complete (FULL_TRANS).
 * Every step returns `stop: true` at once when the job was paused, ended, or superseded by a newer run.
 */
import { randomUUID } from 'node:crypto';
import { openEngine } from '../engines/index.js';
import type { SourceEngine, TableSchema, TargetEngine } from '../engines/engine.js';
import { mutateJob, type JobDeps } from '../job/commands.js';
import type { Job } from '../job/job.js';
import { assertTransition } from '../job/transitions.js';
import type { ChunkRecord, TableRecord } from '../store/job-store.js';
import type { Open } from './checks.js';
import { copyObjectsAndUsers, createDeferredObjects } from './objects.js';
import { currentRun, endpointConfig, log, parallelism, type RunInput } from './context.js';
import { mapTableSchema, targetKeys } from '../engines/column-map.js';
import { checkColumnMaps, refName, resolveSelection, jobObjects } from './selection.js';
import { Throttle } from './throttle.js';

export const ROWS_PER_CHUNK = Number(process.env.DRS_ROWS_PER_CHUNK ?? 100_000);
export const PAGE_ROWS = Number(process.env.DRS_PAGE_ROWS ?? 5_000);
const LEASE_MS = 5 * 60_000;
/** Largest table (bytes) whose primary key may wait for the end of the load (built within finishFullLoad's time). */
const PK_DEFER_MAX_BYTES = 4 * 1024 ** 3;

export interface StepResult {
  stop: boolean;
}

async function withEngines<T>(job: Job, deps: JobDeps, open: Open, run: (s: SourceEngine, t: TargetEngine) => Promise<T>): Promise<T> {
  const source = open(await endpointConfig(job, 'source', deps));
  const target = open(await endpointConfig(job, 'target', deps));
  try {
    return await run(source, target);
  } finally {
    await Promise.allSettled([source.close(), target.close()]);
  }
}

/** Step 2/5 schema copy. */
export async function copySchema(input: RunInput, deps: JobDeps, open: Open = openEngine): Promise<StepResult> {
  const job = await currentRun(input, deps);
  if (!job) return { stop: true };
  if (job.run!.schemaCopied) return { stop: false };
  const tables = await withEngines(job, deps, open, async (source, target) => {
    const objects = jobObjects(job.source, await source.listObjects());
    const mappings = resolveSelection(job.dbObject, objects);
    const schemas = mappings.length ? await source.readSchema(mappings.map((m) => m.source)) : [];
    checkColumnMaps(mappings, schemas);
    const pairs = mappings.map((m, i) => ({ schema: schemas[i], target: m.target, ...(m.columns ? { columns: m.columns } : {}) }));
    // Indexes over a dropped column do not exist on the target (nor can a copy key use them).
    const leftOut = mappings.map((m, i) => mapTableSchema(schemas[i], m.columns).leftOut);
    for (const [i, ixs] of leftOut.entries()) {
      if (ixs.length) await log(deps, job, `step 2/5 schema copy: ${refName(mappings[i].target)}: indexes ${ixs.map((x) => x.name).join(', ')} left out (they use a dropped column)`);
    }
    const defer = job.policy.defer_index_creation !== false;
    const deferSecondaryIndexes = defer || job.policy.index_trans === false;
    // Tables copied by whole chunks can get their primary key after the load too (PostgreSQL: heap
    // load plus one sorted build, about a third less work), when the finishing step surely builds it in time.
    const deferPk = (i: number) => defer && job.policy.index_trans !== false && source.copyChunkTo !== undefined && schemas[i].estimatedBytes <= PK_DEFER_MAX_BYTES;
    for (const deferPrimaryKey of [false, true]) {
      const some = pairs.filter((_, i) => deferPk(i) === deferPrimaryKey);
      if (some.length) await target.applySchema(some, { deferSecondaryIndexes, deferPrimaryKey });
    }
    // Selected accounts, views and routines (lib/steps/objects.ts); triggers and events wait for the end of the copy.
    await copyObjectsAndUsers(job, deps, source, target, objects, mappings);
    return mappings.map((m, i): TableRecord => ({
      index: i,
      source: m.source,
      target: m.target,
      ...(m.columns ? { columns: m.columns } : {}),
      where: m.where,
      keyColumns: keyOf({ ...schemas[i], indexes: schemas[i].indexes.filter((x) => !leftOut[i].includes(x)) }),
      estimatedRows: schemas[i].estimatedRows,
      estimatedBytes: schemas[i].estimatedBytes,
      chunkCount: 0,
    }));
  });
  await deps.jobs.putTables(job, tables);
  await log(deps, job, `step 2/5 schema copy: ${tables.length} tables created on the target`);
  await mutateJob(job.projectId, job.id, deps, (j) => {
    if (j.run?.runId !== input.runId) return j;
    j.run.schemaCopied = true;
    return j;
  });
  return { stop: false };
}

/** Primary key, else the first unique key whose columns are all NOT NULL, else none. */
export function keyOf(schema: TableSchema): string[] {
  if (schema.primaryKey.length) return schema.primaryKey;
  const notNull = new Set(schema.columns.filter((c) => !c.nullable).map((c) => c.name));
  return schema.indexes.find((i) => i.unique && i.columns.every((c) => notNull.has(c)))?.columns ?? [];
}

/** Step 3/5 plan chunks. Returns the workers to run in parallel. */
export async function planChunks(input: RunInput, deps: JobDeps, open: Open = openEngine): Promise<StepResult & { workers: number[] }> {
  const job = await currentRun(input, deps);
  if (!job) return { stop: true, workers: [] };
  const workersFor = (chunks: number) => Array.from({ length: Math.max(1, Math.min(parallelism(job.nodeType), chunks)) }, (_, i) => i);
  if (job.run!.chunksPlanned) {
    const pending = (await deps.jobs.listChunks(job)).filter((c) => c.status !== 'done').length;
    return { stop: false, workers: workersFor(pending) };
  }
  const tables = await deps.jobs.listTables(job);
  const records: ChunkRecord[] = [];
  await withEngines(job, deps, open, async (source) => {
    const schemas = tables.length ? await source.readSchema(tables.map((t) => t.source)) : [];
    for (const [i, t] of tables.entries()) {
      const schema = { ...schemas[i], primaryKey: t.keyColumns.length ? t.keyColumns : schemas[i].primaryKey };
      const chunks = await source.planChunks(schema, ROWS_PER_CHUNK);
      t.chunkCount = chunks.length;
      chunks.forEach((chunk, n) => records.push({ tableIndex: t.index, chunk: { ...chunk, id: `${String(t.index).padStart(6, '0')}#${String(n).padStart(6, '0')}` }, status: 'pending', rows: 0, bytes: 0, attempts: 0 }));
    }
  });
  await deps.jobs.putTables(job, tables);
  await deps.jobs.putChunks(job, records);
  await log(deps, job, `step 3/5 plan chunks: ${records.length} chunks over ${tables.length} tables`);
  await mutateJob(job.projectId, job.id, deps, (j) => {
    if (j.run?.runId !== input.runId) return j;
    j.run.chunksPlanned = true;
    j.run.fullLoadStartedAt ??= Date.now();
    return j;
  });
  return { stop: false, workers: workersFor(records.length) };
}

export interface LoadResult extends StepResult {
  /** True when this worker stopped for its time budget while chunks may remain. */
  more: boolean;
  chunks: number;
  rows: number;
}

/**
 * Step 4/5: one worker. Copies chunks until none is left to claim, the time budget is spent, or
 * the job is paused/ended. Idempotent: a chunk is upserted and only then marked done.
 */
export async function loadChunks(input: RunInput & { worker: number }, deps: JobDeps, budgetMs: number, open: Open = openEngine): Promise<LoadResult> {
  let job = await currentRun(input, deps);
  if (!job) return { stop: true, more: false, chunks: 0, rows: 0 };
  const deadline = Date.now() + budgetMs;
  const owner = `${input.runId}:${input.worker}:${randomUUID().slice(0, 8)}`;
  const tables = new Map((await deps.jobs.listTables(job)).map((t) => [t.index, t]));
  const workers = parallelism(job.nodeType);
  const throttle = new Throttle(job.speedLimits, workers);
  let copied = 0;
  let rowsTotal = 0;
  const claimer = deps.jobs.claimer(job, owner, LEASE_MS);
  return withEngines(job, deps, open, async (source, target) => {
    let lastCheck = Date.now();
    for (;;) {
      if (Date.now() > deadline) return { stop: false, more: true, chunks: copied, rows: rowsTotal };
      const rec = await claimer.next();
      if (!rec) return { stop: false, more: false, chunks: copied, rows: rowsTotal };
      const table = tables.get(rec.tableIndex)!;
      // A keyless table is one chunk: re-copying it must not duplicate rows, so its target starts empty.
      if (!rec.chunk.lower && !rec.chunk.upper && table.keyColumns.length === 0) await target.truncate(table.target);
      // Throttling, and every 5 s: is the job still running, and is the lease still ours? Throws to stop the copy.
      let halted: 'stop' | 'lease' | undefined;
      const checkpoint = async (moved: number): Promise<void> => {
        await throttle.consume(moved);
        if (Date.now() - lastCheck <= 5_000) return;
        lastCheck = Date.now();
        job = await currentRun(input, deps);
        if (!job) halted = 'stop';
        else {
          throttle.update(job.speedLimits);
          if ((rec.leaseUntil ?? 0) - Date.now() < LEASE_MS / 2 && !(await deps.jobs.renewLease(job, rec, owner, Date.now() + LEASE_MS))) halted = 'lease';
        }
        if (halted) throw new Error(`chunk ${rec.chunk.id} halted: ${halted}`);
      };
      let rows = 0;
      let bytes = 0;
      try {
        // The engine's whole-chunk copy when it has one; it declines (undefined) when the range already holds rows of the chunk.
        const fast = await source.copyChunkTo?.(rec.chunk, target, table.target, {
          columns: table.columns,
          where: table.where,
          onData: checkpoint,
          firstAttempt: rec.attempts === 1,
          // Asked before a target without the key yet writes the chunk: is this claim still the current one?
          stillOwned: async () => {
            const now = await currentRun(input, deps);
            if (!now) halted = 'stop';
            else if (!(await deps.jobs.renewLease(now, rec, owner, Date.now() + LEASE_MS))) halted = 'lease';
            return !halted;
          },
        });
        if (fast) ({ rows, bytes } = fast);
        else {
          const keyColumns = targetKeys(table.columns, table.keyColumns);
          for await (const page of source.readChunk(rec.chunk, { pageRows: PAGE_ROWS, columns: table.columns, where: table.where })) {
            rows += await target.writeRows(table.target, page, { keyColumns });
            bytes += page.bytes;
            await checkpoint(page.bytes);
          }
        }
      } catch (e) {
        if (halted === 'stop') return { stop: true, more: false, chunks: copied, rows: rowsTotal };
        if (halted === 'lease') return { stop: false, more: true, chunks: copied, rows: rowsTotal };
        throw e;
      }
      if (await deps.jobs.completeChunk(job!, rec, owner, rows, bytes)) {
        copied++;
        rowsTotal += rows;
      }
    }
  });
}

export interface FinishResult extends StepResult {
  complete: boolean;
  next: 'end' | 'incremental' | 'wait';
}

/** Step 5/5: all chunks done → deferred indexes, then complete or go incremental. */
export async function finishFullLoad(input: RunInput, deps: JobDeps, open: Open = openEngine): Promise<FinishResult> {
  const job = await currentRun(input, deps);
  if (!job) return { stop: true, complete: false, next: 'end' };
  const chunks = await deps.jobs.listChunks(job);
  if (chunks.some((c) => c.status !== 'done')) return { stop: false, complete: false, next: 'wait' };
  if (!job.run!.indexesCreated && job.policy.index_trans !== false) {
    const tables = await deps.jobs.listTables(job);
    await withEngines(job, deps, open, async (source, target) => {
      const schemas = tables.length ? await source.readSchema(tables.map((t) => t.source)) : [];
      await target.createSecondaryIndexes(schemas.map((schema, i) => ({ schema, target: tables[i].target, ...(tables[i].columns ? { columns: tables[i].columns } : {}) })));
    });
  }
  // A full migration's triggers and events, now that no more rows are copied (incremental jobs: when they end).
  if (job.taskType === 'FULL_TRANS') await createDeferredObjects(job, deps, open);
  const rows = chunks.reduce((a, c) => a + c.rows, 0);
  const incremental = job.taskType === 'FULL_INCR_TRANS';
  const saved = await mutateJob(job.projectId, job.id, deps, (j) => {
    if (j.run?.runId !== input.runId) return j;
    j.run.indexesCreated = true;
    j.run.fullLoadCompletedAt ??= Date.now();
    if (j.status === 'FULL_TRANSFER_STARTED') {
      const to = incremental ? 'INCRE_TRANSFER_STARTED' : 'FULL_TRANSFER_COMPLETE';
      assertTransition(j.id, j.status, to, 'finish full load');
      j.status = to;
      j.run.phase = incremental ? 'incremental' : 'done';
      if (incremental) {
        j.run.incrementalStartedAt = Date.now();
        // Until the first CDC checkpoint, the changes waiting are at most as old as the start position.
        j.run.cdc ??= { lagMillis: Math.max(0, Date.now() - j.run.startedAt), eventsPerSecond: 0, eventsApplied: 0, transactionsApplied: 0, updatedAt: Date.now() };
      }
    }
    return j;
  });
  await log(deps, job, `step 5/5 full load complete: ${rows} rows in ${chunks.length} chunks${incremental ? '; incremental sync starts' : ''}`);
  if (saved.run?.runId !== input.runId) return { stop: true, complete: false, next: 'end' };
  return { stop: false, complete: true, next: incremental ? 'incremental' : 'end' };
}

export { refName };
