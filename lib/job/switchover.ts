/**
 * DR switchover (v3 batch-switchover, SWITCH_OVER action) of a single-primary cloudDataGuard job
 * in DR (INCRE_TRANSFER_STARTED) or DR-abnormal (INCRE_TRANSFER_FAILED) status:
 *
 * 1. stop writes on the old primary (the source): read-only for every account;
 * 2. take the primary's binlog position and wait until the job has applied up to it (the lag is
 *    zero: nothing committed on the primary is missing on the standby), bounded by `waitMs`;
 * 3. pause the old direction, take the standby's own position, and reverse the job: endpoints,
 *    object mapping and plan swapped, direction up <-> down, a new incremental run that starts
 *    at the standby's position (no full load: both sides hold the same data);
 * 4. make the new primary writable; the old primary stays read-only for applications
 *    (is_target_readonly) but writable for the replication account, which now applies to it;
 * 5. resume: the new run streams from the new primary.
 *
 * RPO achieved = 0 (step 2 waits until every committed transaction is applied); RTO achieved =
 * the time writes were refused, from step 1 to step 4. Both are recorded on the job
 * (`echo.switchover`). If step 2 times out or anything fails before the reversal, the old
 * primary is made writable again and the old direction keeps (or resumes) running.
 *
 * Runs inside one API call: on AWS the API function's 29 s limit bounds `waitMs`.
 */
import type { CdcPosition, EndpointConfig } from '../engines/engine.js';
import type { WriteMode } from '../engines/params.js';
import { AppError, InvalidParameterError, NotApplicableError, type ErrorCodes } from '../errors.js';
import { endpointConfig } from '../steps/context.js';
import type { TableRecord } from '../store/job-store.js';
import { ACTION_RULES } from './actions.js';
import { getJob, mutateJob, pauseJob, resumeJob, type JobDeps } from './commands.js';
import type { DbObjectSelection, DbSelection, Job, TableSelection } from './job.js';
import { DatabaseAccessError } from './params.js';
import { InvalidTransitionError } from './transitions.js';

export interface SwitchoverPort {
  setWriteMode(cfg: EndpointConfig, mode: WriteMode): Promise<void>;
  position(cfg: EndpointConfig): Promise<CdcPosition>;
}

export type SwitchoverDeps = JobDeps & { dr: SwitchoverPort; waitMs?: number; pollMs?: number };

export interface SwitchoverRecord {
  at: number;
  /** Committed data lost by the switch (0: the standby had applied everything). */
  rpoMillis: number;
  /** Writes were refused for this long. */
  rtoMillis: number;
  /** Replication lag measured when writes stopped. */
  lagAtSwitchMillis: number;
  /** Old primary position the standby caught up with. */
  primaryPosition: CdcPosition;
  /** Where the reversed direction starts (the new primary's position). */
  startPosition: CdcPosition;
  direction: string;
}

export class SwitchoverFailedError extends AppError {
  readonly status = 400;
  readonly codes: ErrorCodes = { v3: 'DRS.M01504', v5: 'DRS.10000001', oms: 'GHANA-OPERAT-STATUS' };
  constructor(message: string, opts?: ErrorOptions) {
    super(`Switchover failed: ${message}`, opts);
    this.name = 'SwitchoverFailedError';
  }
}

const fileNumber = (f: string) => Number(/\.(\d+)$/.exec(f)?.[1] ?? NaN);

/** a is at or after b (same server's binlog). */
export function positionReached(a: CdcPosition | undefined, b: CdcPosition): boolean {
  if (!a || a.kind !== 'mysql' || b.kind !== 'mysql') return false;
  if (a.file !== b.file) {
    const [x, y] = [fileNumber(a.file), fileNumber(b.file)];
    return Number.isFinite(x) && Number.isFinite(y) ? x > y : a.file > b.file;
  }
  return a.pos >= b.pos;
}

/** The selection seen from the other side: target names become source names and back. */
export function reverseSelection(sel: DbObjectSelection): DbObjectSelection {
  if (sel.object_scope === 'all' || !sel.object_info) return structuredClone(sel);
  const info: Record<string, DbSelection> = {};
  for (const [db, d] of Object.entries(sel.object_info)) {
    if (d.schemas && Object.keys(d.schemas).length) throw new InvalidParameterError('jobs', 'a selection with schemas cannot be reversed');
    const target = d.name?.trim() ? d.name : db;
    const tables = d.tables ? Object.fromEntries(Object.entries(d.tables).map(([t, ts]): [string, TableSelection] => [ts.name?.trim() ? ts.name : t, { ...ts, name: t }])) : undefined;
    info[target] = { ...d, name: db, ...(tables ? { tables } : {}) };
  }
  return { ...structuredClone(sel), object_info: info };
}

async function cfgOf(job: Job, role: 'source' | 'target', deps: JobDeps): Promise<EndpointConfig> {
  try {
    return await endpointConfig(job, role, deps);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new DatabaseAccessError(`the ${role} endpoint cannot be used`, e);
  }
}

async function db<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new DatabaseAccessError(what, e);
  }
}

/** Wait until the job has applied `target`; the lag measured at the start is returned. */
async function caughtUp(projectId: string, id: string, target: CdcPosition, deps: SwitchoverDeps): Promise<boolean> {
  const deadline = Date.now() + (deps.waitMs ?? 15_000);
  for (;;) {
    const j = await getJob(projectId, id, deps);
    if (positionReached(j.run?.appliedPosition ?? j.run?.startPosition, target)) return true;
    // Nothing is applying in any other status: waiting cannot help.
    if (j.status !== 'INCRE_TRANSFER_STARTED' || Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, deps.pollMs ?? 200));
  }
}

export function assertSwitchable(job: Job): void {
  if (job.jobType !== 'cloudDataGuard') throw new InvalidParameterError('jobs', `job ${job.id} is a ${job.jobType} job; switchover applies to disaster-recovery (cloudDataGuard) jobs`);
  if (job.multiWrite) throw new NotApplicableError('switchover of a dual-active job', 'dual-active DR is not supported');
  if (job.source.dbType !== 'mysql') throw new NotApplicableError('switchover', 'only MySQL DR jobs can be switched over');
  if (!ACTION_RULES.SWITCH_OVER(job)) throw new InvalidTransitionError(job.id, job.status, 'switchover (DR in progress or DR abnormal only)', 'DRS.10000001');
}

export async function switchover(projectId: string, id: string, deps: SwitchoverDeps): Promise<{ job: Job; record: SwitchoverRecord }> {
  const job = await getJob(projectId, id, deps);
  assertSwitchable(job);
  const tables = await deps.jobs.listTables(job);
  if (tables.some((t) => t.where)) throw new InvalidParameterError('jobs', 'a DR job with row filters cannot be reversed: the standby holds only part of the data');
  const [primary, standby] = await Promise.all([cfgOf(job, 'source', deps), cfgOf(job, 'target', deps)]);
  const lagAtSwitchMillis = job.run?.cdc?.lagMillis ?? 0;

  // 1. stop writes on the old primary
  const t0 = Date.now();
  await db('stopping writes on the primary failed', () => deps.dr.setWriteMode(primary, 'all'));
  let paused = false;
  let reversed = false;
  try {
    // 2. wait until the standby has everything the primary committed
    const primaryPosition = await db('reading the primary binlog position failed', () => deps.dr.position(primary));
    if (!(await caughtUp(projectId, id, primaryPosition, deps))) {
      throw new SwitchoverFailedError(`the standby did not catch up with the primary (${primaryPosition.kind === 'mysql' ? `${primaryPosition.file}:${primaryPosition.pos}` : ''}) within ${Math.round((deps.waitMs ?? 15_000) / 1000)} s; the primary accepts writes again`);
    }
    // 3. stop the old direction and reverse the job from the standby's position
    const current = await getJob(projectId, id, deps);
    if (current.status === 'INCRE_TRANSFER_STARTED') {
      await pauseJob(projectId, id, deps);
      paused = true;
    }
    const startPosition = await db('reading the standby binlog position failed', () => deps.dr.position(standby));
    const direction = job.jobDirection === 'up' ? 'down' : job.jobDirection === 'down' ? 'up' : job.jobDirection;
    await mutateJob(projectId, id, deps, (j) => {
      if (!['PAUSING', 'INCRE_TRANSFER_FAILED'].includes(j.status)) throw new InvalidTransitionError(j.id, j.status, 'switchover');
      const old = j.run;
      [j.source, j.target] = [j.target, j.source];
      j.echo = { ...j.echo, original_job_direction: j.echo.original_job_direction ?? j.jobDirection };
      j.jobDirection = direction;
      j.dbObject = reverseSelection(j.dbObject);
      j.run = {
        runId: old?.runId ?? 'switchover',
        phase: 'incremental',
        startedAt: Date.now(),
        startPosition,
        schemaCopied: true,
        chunksPlanned: true,
        fullLoadStartedAt: old?.fullLoadStartedAt,
        fullLoadCompletedAt: old?.fullLoadCompletedAt,
        indexesCreated: true,
        incrementalStartedAt: Date.now(),
      };
      return j;
    });
    reversed = true;
    // The plan's tables, seen from the new source (CDC routes changes by them).
    await deps.jobs.putTables(job, tables.map((t): TableRecord => ({ ...t, source: t.target, target: t.source })));
    // 4. the new primary takes writes; the old one stays read-only for applications only
    await db('allowing writes on the new primary failed', () => deps.dr.setWriteMode(standby, 'off'));
    await db('setting the old primary to standby mode failed', () => deps.dr.setWriteMode(primary, job.isTargetReadonly ? 'apps' : 'off'));
    const record: SwitchoverRecord = { at: Date.now(), rpoMillis: 0, rtoMillis: Date.now() - t0, lagAtSwitchMillis, primaryPosition, startPosition, direction };
    await mutateJob(projectId, id, deps, (j) => {
      j.echo = { ...j.echo, switchover: record };
      return j;
    });
    // 5. stream from the new primary
    const resumed = await resumeJob(projectId, id, deps);
    return { job: resumed, record };
  } catch (e) {
    if (!reversed) {
      await deps.dr.setWriteMode(primary, 'off').catch(() => undefined);
      if (paused) await resumeJob(projectId, id, deps).catch(() => undefined);
    }
    throw e;
  }
}
