/**
 * Incremental sync (DESIGN §5 rules 3, 4): stream the source's changes from the last applied
 * position and apply them to the target in commit order, in batches of whole transactions, each
 * batch in one target transaction. The position is checkpointed on the job only after the target
 * commit that contains it, and only then acknowledged to the source; replaying from an older
 * checkpoint converges (the applier is idempotent). A task runs for a bounded time, returns, and
 * the state machine loops; after MAX_ITERATIONS it continues as a fresh execution.
 *
 * Pause (`stop`) and end (`/stop`) are seen within a second: the task checkpoints and returns.
 * Connection losses surface as RetryableError: the state machine retries with backoff, then
 * records INCRE_TRANSFER_FAILED; `restart` resumes from the checkpoint with nothing lost.
 */
import { openEngine } from '../engines/index.js';
import type { CdcPosition, CdcSource, CdcTarget, ChangeTransaction, SourceEngine, TableMapping, TableRef, TargetEngine } from '../engines/engine.js';
import { mutateJob, type JobDeps } from '../job/commands.js';
import type { CdcStats, Job } from '../job/job.js';
import type { AbnormalRecord } from '../store/job-store.js';
import type { Workflow } from '../workflow/workflow.js';
import type { Open } from './checks.js';
import { currentRun, endpointConfig, log, type RunInput } from './context.js';
import { mappingFor, refName } from './selection.js';
import { Throttle } from './throttle.js';
import { notifyJobEvent } from '../job/notify.js';

export const MAX_ITERATIONS = Number(process.env.DRS_CDC_MAX_ITERATIONS ?? 20);
/** How long one SyncChanges task streams before returning (bounded well under Lambda's 15 minutes). */
export const SYNC_BUDGET_MS = Number(process.env.DRS_CDC_BUDGET_MS ?? 600_000);
const STATUS_CHECK_MS = 1_000;
/** Applied positions are checkpointed at least this often (and at every idle moment and exit). */
const CHECKPOINT_MS = 500;

type CdcEngine = SourceEngine & TargetEngine & CdcSource & CdcTarget;

export interface SyncResult {
  stop: boolean;
  continueAsNew: boolean;
  iteration: number;
  transactions: number;
  rows: number;
}

/** Name of the job's CDC resources on the source (PostgreSQL slot/publication). */
export const cdcName = (job: Pick<Job, 'id'>) => job.id;

/** Source commit time estimate: MySQL binlog timestamps have second resolution. */
function commitEstimate(tx: ChangeTransaction): number {
  return tx.position.kind === 'mysql' ? Math.max(tx.commitTime, Math.min(tx.receivedAt, tx.commitTime + 999)) : tx.commitTime;
}

export async function syncChanges(input: RunInput & { iteration?: number }, deps: JobDeps, budgetMs = SYNC_BUDGET_MS, open: Open = openEngine): Promise<SyncResult> {
  const iteration = input.iteration ?? 0;
  let job = await currentRun(input, deps);
  const stopped = (transactions = 0, rows = 0): SyncResult => ({ stop: true, continueAsNew: false, iteration, transactions, rows });
  if (!job) return stopped();
  const from = job.run!.appliedPosition ?? job.run!.startPosition;
  if (!from) throw Object.assign(new Error('The job has no CDC start position: it was started without capturing one.'), { name: 'MissingPositionError' });

  const tables = await deps.jobs.listTables(job);
  const planned = new Map(tables.map((t) => [refName(t.source), t]));
  const routes = new Map<string, TableMapping | undefined>();
  const route = (ref: TableRef): TableMapping | undefined => {
    const key = refName(ref);
    if (!routes.has(key)) {
      const t = planned.get(key);
      routes.set(key, t ? { source: t.source, target: t.target, where: t.where, ...(t.columns ? { columns: t.columns } : {}) } : mappingFor(job!.dbObject, ref));
    }
    return routes.get(key);
  };
  const keyColumns = (ref: TableRef) => planned.get(refName(ref))?.keyColumns ?? [];

  const source = open(await endpointConfig(job, 'source', deps)) as CdcEngine;
  const target = open(await endpointConfig(job, 'target', deps)) as CdcEngine;
  const deadline = Date.now() + budgetMs;
  const throttle = new Throttle(job.speedLimits);
  let transactions = 0;
  let rows = 0;
  let events = 0;
  const started = Date.now();
  let lastCheck = Date.now();
  let stream: Awaited<ReturnType<CdcEngine['openChangeStream']>> | undefined;
  // Applied but not yet checkpointed: the last transaction, and the counts since the last checkpoint.
  let pending: ChangeTransaction | undefined;
  let unsaved = { transactions: 0, events: 0 };
  let lastSaved = Date.now();
  /** Checkpoint what is applied (after its target commit), then let the source discard it. */
  const flush = async (): Promise<boolean> => {
    const ok = await checkpoint(input, deps, pending, unsaved, { events, started });
    if (ok && pending) await stream!.acknowledge(pending.position);
    pending = undefined;
    unsaved = { transactions: 0, events: 0 };
    lastSaved = Date.now();
    return ok;
  };
  try {
    stream = await source.openChangeStream(from, tables.map((t) => t.source));
    for (;;) {
      if (Date.now() - lastCheck >= STATUS_CHECK_MS) {
        lastCheck = Date.now();
        job = await currentRun(input, deps);
        if (!job) return (await flush(), stopped(transactions, rows));
        throttle.update(job.speedLimits);
      }
      if (Date.now() >= deadline) break;
      const txs = await stream.next({ maxTransactions: 500, maxEvents: 20_000, waitMs: Math.min(500, Math.max(0, deadline - Date.now())) });
      if (!txs.length) {
        if (!(await flush())) return stopped(transactions, rows);
        continue;
      }
      // A pause or end takes effect before the next batch: nothing read after it is applied.
      job = await currentRun(input, deps);
      if (!job) return (await flush(), stopped(transactions, rows));
      lastCheck = Date.now();
      if (job!.policy.ddl_trans === false) await skipDdl(job!, txs, deps);
      const applied = await target.applyChanges(txs, route, { keyColumns, conflictPolicy: job!.policy.conflict_policy });
      const n = txs.reduce((a, t) => a + t.changes.length, 0);
      transactions += txs.length;
      rows += applied.rows;
      events += n;
      pending = txs[txs.length - 1];
      unsaved = { transactions: unsaved.transactions + txs.length, events: unsaved.events + n };
      if (Date.now() - lastSaved >= CHECKPOINT_MS && !(await flush())) return stopped(transactions, rows);
      await throttle.consume(n * 200);
    }
    if (!(await flush())) return stopped(transactions, rows);
  } finally {
    await stream?.close().catch(() => undefined);
    await Promise.allSettled([source.close(), target.close()]);
  }
  if (transactions) await log(deps, job!, `incremental sync: ${transactions} transactions, ${rows} rows applied in ${Math.round((Date.now() - started) / 1000)} s`);
  const next = iteration + 1;
  return { stop: false, continueAsNew: next >= MAX_ITERATIONS, iteration: next, transactions, rows };
}

/**
 * The user chose not to replicate DDL (policy ddl_trans=false): drop DDL from the batch and
 * record every skipped statement in the job's abnormal-data list, never silently.
 */
async function skipDdl(job: Job, txs: ChangeTransaction[], deps: JobDeps): Promise<void> {
  const skipped: AbnormalRecord[] = [];
  for (const tx of txs) {
    tx.changes = tx.changes.filter((c) => {
      if (c.op !== 'ddl') return true;
      const t = c.tables?.[0];
      skipped.push({ db_name: t?.db ?? c.db, schema_name: t?.schema ?? '', table_name: t?.table ?? '', content: c.statement.slice(0, 4000), reason: 'DDL skipped: the job replicates no DDL (ddl_trans=false)', commit_time: tx.commitTime, create_time: Date.now() });
      return false;
    });
  }
  if (skipped.length) {
    await deps.jobs.appendAbnormal(job, skipped);
    await log(deps, job, `incremental sync: ${skipped.length} DDL statement(s) skipped by policy and recorded as abnormal data`, 'WARN');
  }
}

/**
 * Record the applied position (after the target commit that contains it) and the lag. False when
 * this run is no longer current: the caller stops without acknowledging, and the newer run replays
 * from its own checkpoint (the applier is idempotent).
 */
async function checkpoint(
  input: RunInput,
  deps: JobDeps,
  last: ChangeTransaction | undefined,
  delta: { transactions: number; events: number },
  totals: { events: number; started: number },
): Promise<boolean> {
  const now = Date.now();
  const saved = await mutateJob(input.projectId, input.jobId, deps, (j) => {
    if (j.run?.runId !== input.runId) return j;
    const prev = j.run.cdc;
    const lagMillis = last ? Math.max(0, now - commitEstimate(last)) : 0;
    // Idle and caught up: refresh the lag at most every 5 s to keep writes cheap.
    if (!last && prev && prev.lagMillis === 0 && now - prev.updatedAt < 5_000) return j;
    const elapsed = Math.max(1, (now - totals.started) / 1000);
    const stats: CdcStats = {
      lagMillis,
      lastCommitTime: last?.commitTime ?? prev?.lastCommitTime,
      eventsPerSecond: Math.round(totals.events / elapsed),
      eventsApplied: (prev?.eventsApplied ?? 0) + delta.events,
      transactionsApplied: (prev?.transactionsApplied ?? 0) + delta.transactions,
      updatedAt: now,
    };
    if (last) j.run.appliedPosition = last.position as CdcPosition;
    j.run.cdc = stats;
    return j;
  });
  if (saved.run?.runId !== input.runId) return false;
  // Lag alarm (alarm_notify.delay_time / rpo_delay): sent when over the threshold, repeated at most every LAG_REPEAT_MS.
  if (saved.run.cdc) await notifyJobEvent(saved, { kind: 'lag', lagMillis: saved.run.cdc.lagMillis }, deps).catch(() => false);
  return true;
}

/** Carry the CDC loop on in a fresh execution: the position lives on the job, not in the history. */
export async function continueAsNew(input: RunInput & { segment?: number }, deps: JobDeps & { workflow: () => Promise<Workflow> }): Promise<{ started: boolean }> {
  const job = await currentRun(input, deps);
  if (!job) return { started: false };
  await (await deps.workflow()).start({ mode: 'run', projectId: input.projectId, jobId: input.jobId, runId: input.runId, iteration: 0, segment: (input.segment ?? 0) + 1 });
  return { started: true };
}

/** Drop the job's CDC resources on the source (PostgreSQL slot and publication). */
export async function releaseCdc(job: Job, deps: JobDeps, position: CdcPosition | undefined, open: Open = openEngine): Promise<void> {
  if (!position) return;
  const source = open(await endpointConfig(job, 'source', deps)) as CdcEngine;
  try {
    await source.releaseCdc(position);
  } finally {
    await source.close().catch(() => undefined);
  }
}
