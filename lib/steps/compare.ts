/**
 * The compare workflow's steps (statemachines/compare.asl.yml), over one compare task of a job.
 * Every read goes to the two databases through the compare's own connections (DESIGN §5 rule 5).
 *
 * 1. startCompare: wait for the task's start time; then resolve the job's selected tables (after
 *    renames, limited to the task's scope) and describe them on both sides. `object`: compare the
 *    catalogs and store the differences; done. `lines`: one work item per table (its row counts).
 *    `contents`: the source's primary-key chunks (the engines' planChunks), one work item each.
 *    Skipped when already planned, so a retried or resumed start keeps its plan.
 * 2. compareWork (one per parallel worker): claim a work item under a lease, count or digest it on
 *    both sides (narrowing differing chunks to rows, re-checking them after the CDC lag while
 *    incremental sync runs), store its differences, mark it done. Throttled by the job's speed
 *    limits; stops at once when the task is cancelled. A crash redoes the items in flight only.
 * 3. finishCompare: when every item is done, store each table's result and end the task.
 * Idempotent throughout: results of a redone item replace the earlier ones.
 */
import { randomUUID } from 'node:crypto';
import { openComparer, type OpenComparer } from '../compare/comparers.js';
import { compareRange, CompareStoppedError, DEFAULT_CONTENT_OPTIONS, recheck, type CompareSide } from '../compare/content.js';
import { compareObjects, databasePairs } from '../compare/objects.js';
import { isFinished, refName, tableName, type CompareScope, type CompareTask, type CompareWork, type TableResult } from '../compare/model.js';
import { aggregateTables } from '../compare/results.js';
import type { Comparer, ObjectColumn, TableMapping } from '../engines/engine.js';
import { isEmptyMap, targetColumn } from '../engines/column-map.js';
import { openEngine } from '../engines/index.js';
import { renameFilterColumns } from '../engines/sql-filter.js';
import { getJob, type JobDeps } from '../job/commands.js';
import type { Job } from '../job/job.js';
import type { CompareStore } from '../store/compare-store.js';
import type { Open } from './checks.js';
import { endpointConfig, log, parallelism } from './context.js';
import { resolveSelection, jobObjects } from './selection.js';
import { Throttle } from './throttle.js';

export const COMPARE_ROWS_PER_CHUNK = Number(process.env.DRS_COMPARE_ROWS_PER_CHUNK ?? 100_000);
const LEASE_MS = 5 * 60_000;
const CHECK_MS = 5_000;
/** Longest wait for in-flight changes before a differing row is re-checked. */
const MAX_RECHECK_WAIT_MS = 5 * 60_000;
/** Slack added to the job's lag before re-checking. */
const RECHECK_MARGIN_MS = Number(process.env.DRS_COMPARE_RECHECK_MARGIN_MS ?? 1_000);

export interface CompareDeps extends JobDeps {
  compares: CompareStore;
  openComparer?: OpenComparer;
  open?: Open;
  sleep?: (ms: number) => Promise<void>;
}

export interface CompareInput {
  projectId: string;
  jobId: string;
  taskId: string;
}

const key = (i: CompareInput) => ({ projectId: i.projectId, jobId: i.jobId });
const sleep = (deps: CompareDeps) => deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

async function withComparers<T>(job: Job, deps: CompareDeps, run: (s: Comparer, t: Comparer) => Promise<T>): Promise<T> {
  const open = deps.openComparer ?? openComparer;
  const s = open(await endpointConfig(job, 'source', deps));
  const t = open(await endpointConfig(job, 'target', deps));
  try {
    return await run(s, t);
  } finally {
    await Promise.allSettled([s.close(), t.close()]);
  }
}

/** Does the task's scope (v3 compare_object_infos / v5 db_object) cover this mapping? Absent = everything selected. */
export function inScope(m: TableMapping, scope: CompareScope[] | undefined): boolean {
  if (!scope?.length) return true;
  return scope.some(
    (s) => s.db === m.source.db && (s.schema === undefined || s.schema === m.source.schema) && (!s.tables?.length || s.tables.includes(m.source.table) || s.tables.includes(tableName(m.source))),
  );
}

/** The job's selected tables covered by the task, source → target. */
async function mappingsOf(job: Job, task: CompareTask, deps: CompareDeps): Promise<TableMapping[]> {
  const source = (deps.open ?? openEngine)(await endpointConfig(job, 'source', deps));
  try {
    return resolveSelection(job.dbObject, jobObjects(job.source, await source.listObjects()), false).filter((m) => inScope(m, task.scope));
  } finally {
    await source.close().catch(() => undefined);
  }
}

export interface StartResult {
  stop: boolean;
  wait: boolean;
  waitSeconds: number;
  workers: number[];
}

/** Step 1/3. */
export async function startCompare(input: CompareInput, deps: CompareDeps): Promise<StartResult> {
  const now = (deps.now ?? Date.now)();
  let task = await deps.compares.getTask(key(input), input.taskId);
  const stop = (): StartResult => ({ stop: true, wait: false, waitSeconds: 0, workers: [] });
  if (!task || isFinished(task.status)) return stop();
  if (task.startAt !== undefined && task.startAt > now + 1000) return { stop: false, wait: true, waitSeconds: Math.max(1, Math.min(3600, Math.ceil((task.startAt - now) / 1000))), workers: [] };
  const job = await getJob(input.projectId, input.jobId, deps);
  task = await deps.compares.mutateTask(key(input), input.taskId, (t) => {
    if (t.status === 'WAITING_FOR_RUNNING') Object.assign(t, { status: 'RUNNING', startedAt: now });
    return t;
  });
  if (task.status !== 'RUNNING') return stop();
  const workersFor = (n: number) => Array.from({ length: Math.max(0, Math.min(parallelism(job.nodeType), n)) }, (_, i) => i);

  if (task.workTotal !== undefined) {
    const pending = (await deps.compares.listWork(key(input), task.id)).filter((w) => w.status !== 'done').length;
    return { stop: false, wait: false, waitSeconds: 0, workers: workersFor(pending) };
  }
  const mappings = await mappingsOf(job, task, deps);
  if (task.type === 'object') {
    const outcome = await withComparers(job, deps, async (s, t) => {
      const pairs = databasePairs(mappings);
      const [sd, td] = await Promise.all([s.describeObjects(pairs.map((p) => p.source), mappings.map((m) => m.source)), t.describeObjects(pairs.map((p) => p.target), mappings.map((m) => m.target))]);
      return compareObjects(mappings, sd, td);
    });
    await deps.compares.putObjectDifferences(key(input), task.id, outcome.differences);
    await deps.compares.mutateTask(key(input), task.id, (t) => Object.assign(t, { objectOverview: outcome.overview, workTotal: 1, workDone: 1 }));
    await log(deps, job, `compare ${task.id} (object): ${outcome.differences.length} differences over ${mappings.length} tables`);
    return { stop: false, wait: false, waitSeconds: 0, workers: [] };
  }

  const { tables, work } = await withComparers(job, deps, async (s, t) => {
    const pairs = databasePairs(mappings);
    const [sd, td] = await Promise.all([s.describeObjects(pairs.map((p) => p.source), mappings.map((m) => m.source)), t.describeObjects(pairs.map((p) => p.target), mappings.map((m) => m.target))]);
    const targetDbs = new Map(td.databases.map((d) => [JSON.stringify([d.db, d.schema ?? null]), d.exists]));
    const tables: TableResult[] = [];
    const work: CompareWork[] = [];
    const engine = (deps.open ?? openEngine)(await endpointConfig(job, 'source', deps));
    try {
      const schemas = task!.type === 'contents' && mappings.length ? await engine.readSchema(mappings.map((m) => m.source)) : [];
      for (const [i, m] of mappings.entries()) {
        const st = sd.tables[i]!;
        const tt = td.tables[i]!;
        // Column pairs after the job's renames; dropped columns are not compared.
        const sourceColumns: ObjectColumn[] = [];
        const targetColumns: ObjectColumn[] = [];
        const missingCols: string[] = [];
        for (const c of st.columns) {
          const name = targetColumn(m.columns, c.name);
          if (name === undefined) continue;
          const o = tt.columns.find((x) => x.name === name);
          if (o) {
            sourceColumns.push(c);
            targetColumns.push(o);
          } else missingCols.push(name);
        }
        const schema = schemas[i];
        const avgRowBytes = schema && schema.estimatedRows > 0 ? Math.max(16, Math.round(schema.estimatedBytes / schema.estimatedRows)) : 128;
        const r: TableResult = {
          index: i, source: m.source, target: m.target, where: m.where, sourceColumns, targetColumns, keyColumns: [], avgRowBytes,
          status: 'WAITING_FOR_COMPARISON', sourceRows: 0, targetRows: 0, diffRows: 0, missing: 0, extra: 0, different: 0, chunks: 0, chunksDone: 0,
        };
        if (!isEmptyMap(m.columns) && m.where) {
          const map = m.columns;
          const mysql = m.source.schema === undefined;
          // MySQL column names are case-insensitive: the filter may spell a mapped column differently.
          const named = [...Object.keys(map.rename), ...map.drop];
          const rename = (c: string) => targetColumn(map, mysql ? (named.find((k) => k.toLowerCase() === c.toLowerCase()) ?? c) : c);
          r.targetWhere = renameFilterColumns(m.where, mysql ? 'mysql' : 'postgresql', rename) ?? '';
        }
        tables.push(r);
        const dbExists = targetDbs.get(JSON.stringify([m.target.db, m.target.schema ?? null]));
        if (!tt.exists) {
          r.status = dbExists === false ? 'TARGET_DB_NOT_EXIST' : 'CAN_NOT_COMPARE';
          r.message = dbExists === false ? `The target database ${m.target.db}${m.target.schema ? `.${m.target.schema}` : ''} does not exist.` : `The target table ${refName(m.target)} does not exist.`;
          continue;
        }
        if (task!.type === 'lines') {
          work.push(newWork(i, 0, 'count'));
          continue;
        }
        if (missingCols.length) {
          r.status = 'CAN_NOT_COMPARE';
          r.message = `Columns ${missingCols.join(', ')} do not exist on the target table ${refName(m.target)}.`;
          continue;
        }
        const [sk, tk] = await Promise.all([s.hashKinds(m.source), t.hashKinds(m.target)]);
        r.hash = sk.find((k) => tk.includes(k)) ?? 'md5';
        const chunks = await engine.planChunks(schema!, COMPARE_ROWS_PER_CHUNK);
        r.keyColumns = chunks[0]?.keyColumns ?? [];
        if (!isEmptyMap(m.columns) && r.keyColumns.length) {
          const keys = r.keyColumns.map((k) => targetColumn(m.columns, k));
          if (keys.some((k) => k === undefined)) {
            // A keyless table chunked by a unique key over a dropped column: the target cannot be read by it.
            r.status = 'CAN_NOT_COMPARE';
            r.message = `The key ${r.keyColumns.join(', ')} of ${refName(m.source)} uses a dropped column.`;
            continue;
          }
          r.targetKeyColumns = keys as string[];
        }
        chunks.forEach((c, n) => work.push({ ...newWork(i, n, 'digest'), ...(c.lower ? { lower: c.lower } : {}), ...(c.upper ? { upper: c.upper } : {}) }));
      }
    } finally {
      await engine.close().catch(() => undefined);
    }
    return { tables, work };
  });
  await deps.compares.putTables(key(input), task.id, tables);
  await deps.compares.putWork(key(input), task.id, work);
  await deps.compares.mutateTask(key(input), task.id, (t) => Object.assign(t, { workTotal: work.length, workDone: 0 }));
  await log(deps, job, `compare ${task.id} (${task.type}): ${tables.length} tables, ${work.length} work items`);
  return { stop: false, wait: false, waitSeconds: 0, workers: workersFor(work.length) };
}

const newWork = (tableIndex: number, n: number, kind: CompareWork['kind']): CompareWork => ({ tableIndex, n, kind, status: 'pending', attempts: 0, sourceRows: 0, targetRows: 0, missing: 0, extra: 0, different: 0, stored: 0 });

export interface WorkResult {
  stop: boolean;
  more: boolean;
  done: number;
}

/** Step 2/3: one worker; runs items until none is left, the time budget is spent, or the task is cancelled. */
export async function compareWork(input: CompareInput & { worker: number }, deps: CompareDeps, budgetMs: number): Promise<WorkResult> {
  const task = await deps.compares.getTask(key(input), input.taskId);
  if (!task || isFinished(task.status)) return { stop: true, more: false, done: 0 };
  let job = await getJob(input.projectId, input.jobId, deps);
  const deadline = Date.now() + budgetMs;
  const owner = `${task.id}:${input.worker}:${randomUUID().slice(0, 8)}`;
  const tables = new Map((await deps.compares.listTables(key(input), task.id)).map((t) => [t.index, t]));
  const throttle = new Throttle(job.speedLimits, parallelism(job.nodeType));
  let done = 0;
  return withComparers(job, deps, async (s, t) => {
    for (;;) {
      if (Date.now() > deadline) return { stop: false, more: true, done };
      const w = await deps.compares.claimWork(key(input), task.id, owner, LEASE_MS);
      if (!w) return { stop: false, more: false, done };
      const table = tables.get(w.tableIndex)!;
      let lastCheck = Date.now();
      let cancelled = false;
      const shouldStop = async () => {
        if (Date.now() - lastCheck < CHECK_MS) return false;
        lastCheck = Date.now();
        const current = await deps.compares.getTask(key(input), task.id);
        if (!current || isFinished(current.status)) return (cancelled = true);
        if ((w.leaseUntil ?? 0) - Date.now() < LEASE_MS / 2 && !(await deps.compares.renewLease(key(input), task.id, w, owner, Date.now() + LEASE_MS))) return true;
        job = await getJob(input.projectId, input.jobId, deps);
        throttle.update(job.speedLimits);
        return false;
      };
      let result: Partial<CompareWork>;
      try {
        result = w.kind === 'count' ? await countWork(s, t, table) : await digestWork(input, deps, s, t, table, w, () => job, shouldStop, (rows) => throttle.consume(rows * table.avgRowBytes));
      } catch (e) {
        if (e instanceof CompareStoppedError) return cancelled ? { stop: true, more: false, done } : { stop: false, more: true, done };
        if ((e as Error).name !== 'FatalEngineError') throw e;
        // This table cannot be compared (a type the database cannot hash, a missing privilege...): say so, go on.
        result = { failed: (e as Error).message.slice(0, 1000) };
      }
      if (await deps.compares.completeWork(key(input), task.id, w, owner, result)) done++;
    }
  });
}

/** The row filter on the target: in its column names when the job renames columns. */
const targetWhere = (table: TableResult) => (table.targetWhere !== undefined ? table.targetWhere || undefined : table.where);

async function countWork(s: Comparer, t: Comparer, table: TableResult): Promise<Partial<CompareWork>> {
  const [sourceRows, targetRows] = await Promise.all([s.countRows(table.source, table.where), t.countRows(table.target, targetWhere(table))]);
  return { sourceRows, targetRows };
}

async function digestWork(
  input: CompareInput,
  deps: CompareDeps,
  s: Comparer,
  t: Comparer,
  table: TableResult,
  w: CompareWork,
  job: () => Job,
  shouldStop: () => Promise<boolean>,
  onRows: (rows: number) => Promise<unknown>,
): Promise<Partial<CompareWork>> {
  const src: CompareSide = { comparer: s, table: table.source, spec: { columns: table.sourceColumns, where: table.where, hash: table.hash } };
  const tgt: CompareSide = { comparer: t, table: table.target, spec: { columns: table.targetColumns, where: targetWhere(table), hash: table.hash }, ...(table.targetKeyColumns ? { keyColumns: table.targetKeyColumns } : {}) };
  const bounds = { ...(w.lower ? { lower: w.lower } : {}), ...(w.upper ? { upper: w.upper } : {}) };
  const opts = { ...DEFAULT_CONTENT_OPTIONS, shouldStop, onRows: async (rows: number) => void (await onRows(rows)) };
  let outcome = await compareRange(src, tgt, table.keyColumns, bounds, table.index, opts);
  // Rule: while incremental sync runs, a difference may be a change still in flight; look again after the lag.
  if (outcome.differences.length && job().status === 'INCRE_TRANSFER_STARTED') {
    const current = await getJob(input.projectId, input.jobId, deps);
    const lag = current.run?.cdc?.lagMillis ?? 0;
    const wait = Math.min(MAX_RECHECK_WAIT_MS, lag + RECHECK_MARGIN_MS);
    const before = outcome.differences.length;
    await sleep(deps)(wait);
    outcome = await recheck(src, tgt, table.keyColumns, bounds, table.index, outcome, opts);
    await log(deps, current, `compare ${input.taskId}: ${before} rows of ${refName(table.source)} differed while incremental sync ran; re-checked after ${wait} ms: ${outcome.differences.length} still differ`);
  }
  await deps.compares.replaceRowDifferences(key(input), input.taskId, w, outcome.differences);
  return { sourceRows: outcome.sourceRows, targetRows: outcome.targetRows, missing: outcome.missing, extra: outcome.extra, different: outcome.different, stored: outcome.differences.length };
}

export interface FinishResult {
  stop: boolean;
  next: 'wait' | 'end';
}

/** Step 3/3: every item done (or the task cancelled) → store each table's result and end the task. */
export async function finishCompare(input: CompareInput, deps: CompareDeps): Promise<FinishResult> {
  const task = await deps.compares.getTask(key(input), input.taskId);
  if (!task) return { stop: true, next: 'end' };
  const now = (deps.now ?? Date.now)();
  if (task.type !== 'object') {
    const work = await deps.compares.listWork(key(input), task.id);
    if (!isFinished(task.status) && work.some((w) => w.status !== 'done')) return { stop: false, next: 'wait' };
    const tables = aggregateTables(await deps.compares.listTables(key(input), task.id), work, task);
    await deps.compares.putTables(key(input), task.id, tables);
    const rows = work.reduce((a, w) => a + w.sourceRows + w.targetRows, 0);
    await deps.compares.mutateTask(key(input), task.id, (t) => Object.assign(t, { workDone: work.filter((w) => w.status === 'done').length, rowsCompared: rows }));
  }
  const saved = await deps.compares.mutateTask(key(input), task.id, (t) => {
    if (t.status === 'RUNNING') t.status = 'SUCCESSFUL';
    t.endedAt ??= now;
    return t;
  });
  const job = await getJob(input.projectId, input.jobId, deps).catch(() => undefined);
  if (job) await log(deps, job, `compare ${task.id} (${task.type}) ended: ${saved.status}`);
  return { stop: false, next: 'end' };
}

/** Catch-all: the task failed; its error is recorded on it. */
export async function markCompareFailed(input: CompareInput & { error?: { Error?: string; Cause?: string } }, deps: CompareDeps): Promise<void> {
  let message = input.error?.Cause ?? input.error?.Error ?? 'The compare failed.';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (parsed.errorMessage) message = parsed.errorMessage;
  } catch {
    // Cause is plain text.
  }
  // A task deleted with its job (or by DeleteCompareJob) has nothing left to mark.
  if (!(await deps.compares.getTask(key(input), input.taskId))) return;
  await deps.compares.mutateTask(key(input), input.taskId, (t) => {
    if (isFinished(t.status)) return t;
    t.status = 'FAILED';
    t.error = message.slice(0, 1000);
    t.endedAt = (deps.now ?? Date.now)();
    return t;
  });
}
