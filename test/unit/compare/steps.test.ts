/**
 * The compare workflow's steps run in-process against the embedded store, with fake databases:
 * planning, parallel workers, results, scheduling, cancellation, per-table failures, the CDC
 * re-check, and the commands' rules (job statuses, one unfinished data-level compare).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as create } from '../../../functions/api/v5/create-job.js';
import { cancelCompare, createCompare, nextCompareTime, startDueCompares, updateComparePolicy, weekdays, type CompareCommandDeps } from '../../../lib/compare/commands.js';
import { fullVerifyInconsistencies, fullVerifyResults } from '../../../lib/compare/oms.js';
import { tableResults } from '../../../lib/compare/queries.js';
import type { Chunk, EndpointConfig, ObjectColumn, ObjectTable, SourceEngine, TableRef, TableSchema, TargetEngine } from '../../../lib/engines/engine.js';
import { FatalEngineError } from '../../../lib/engines/engine.js';
import { mutateJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import type { Job } from '../../../lib/job/job.js';
import type { JobStatus } from '../../../lib/job/transitions.js';
import { compareWork, finishCompare, markCompareFailed, startCompare, type CompareDeps } from '../../../lib/steps/compare.js';
import { compareStore } from '../../../lib/store/compare-store.js';
import type { WorkflowInput } from '../../../lib/workflow/workflow.js';
import { apiEvent, call } from '../../helpers/events.js';
import { createJobBody, drain } from '../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../helpers/local.js';
import { FakeComparer, rowsOf, type FakeRow } from './fake-comparer.js';

let svc: LocalService;
beforeAll(async () => {
  svc = await startLocal({ http: false });
});
afterAll(async () => {
  await svc.stop();
});

const SRC = { kind: 'mysql' as const, host: '127.0.0.1', port: 1, user: 'root', password: 'pw' };
const DST = { ...SRC, port: 2 };
const T = (db: string): TableRef => ({ db, table: 't' });
const K = (db: string): TableRef => ({ db, table: 'k' });
const cols: ObjectColumn[] = ['id', 'name', 'amount'].map((name) => ({ name, type: 'varchar(20)', dataType: 'varchar', nullable: name !== 'id' }));
const described = (ref: TableRef, exists = true, key = true): ObjectTable => ({ ref, exists, columns: exists ? cols : [], primaryKey: key ? ['id'] : [], indexes: key ? [{ name: 'PRIMARY', columns: ['id'], unique: true, primary: true }] : [] });

/** A source engine that knows two tables of `shop`: t (keyed, chunks of 1000) and k (keyless). */
function fakeEngine(): SourceEngine & TargetEngine {
  const schema = (ref: TableRef): TableSchema => ({ ref, columns: cols.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })), primaryKey: ref.table === 't' ? ['id'] : [], indexes: [], estimatedRows: 3000, estimatedBytes: 300_000 });
  return {
    kind: 'mysql',
    listObjects: async () => ({ databases: [{ name: 'shop', tables: ['t', 'k'] }] }),
    readSchema: async (refs: TableRef[]) => refs.map(schema),
    planChunks: async (s: TableSchema): Promise<Chunk[]> =>
      s.primaryKey.length
        ? [0, 1, 2].map((n) => ({ id: `c${n}`, table: s.ref, keyColumns: ['id'], ...(n ? { lower: [n * 1000] } : {}), ...(n < 2 ? { upper: [(n + 1) * 1000] } : {}), estimatedRows: 1000 }))
        : [{ id: 'k0', table: s.ref, keyColumns: [], estimatedRows: 3000 }],
    close: async () => undefined,
  } as unknown as SourceEngine & TargetEngine;
}

let source: FakeComparer;
let target: FakeComparer;
let starts: WorkflowInput[];
let slept: number[];

function deps(extra: Partial<CompareDeps> = {}): CompareDeps & CompareCommandDeps {
  return {
    ...jobDeps(),
    compares: compareStore(),
    workflow: async () => ({ start: async (i: WorkflowInput) => (starts.push(i), 'exec') }),
    open: () => fakeEngine(),
    openComparer: (cfg: EndpointConfig) => (cfg.port === 1 ? source : target),
    sleep: async (ms: number) => void slept.push(ms),
    ...extra,
  };
}

const key = (job: Job) => ({ projectId: job.projectId, jobId: job.id });
const keyless = (n: number): FakeRow[] => Array.from({ length: n }, (_, i) => ({ key: [], values: [String(i % 50), 'k', null] }));

beforeEach(() => {
  starts = [];
  slept = [];
  source = new FakeComparer().set(T('shop'), rowsOf(3000)).set(K('shop'), keyless(300));
  target = new FakeComparer().set(T('shop'), rowsOf(3000)).set(K('shop'), keyless(300));
  source.description = { databases: [{ db: 'shop', exists: true }], tables: [described(T('shop')), described(K('shop'), true, false)] };
  target.description = { databases: [{ db: 'shop', exists: true }], tables: [described(T('shop')), described(K('shop'), true, false)] };
});

async function newJob(status: JobStatus, over: Partial<Job> = {}): Promise<Job> {
  const res = await call(create, apiEvent({ method: 'POST', route: '/v5/{project_id}/jobs', body: createJobBody({ source: SRC, target: DST }), cred: svc.cred }));
  expect(res.status).toBe(200);
  await drain();
  return mutateJob(svc.cred.projectId, res.body.id as string, jobDeps(), (j) => ({ ...j, ...over, status }));
}

/** Plan, run every worker to the end, finish: what the state machine does. */
async function runAll(job: Job, taskId: string, d = deps()) {
  const input = { projectId: job.projectId, jobId: job.id, taskId };
  const start = await startCompare(input, d);
  const work = await Promise.all(start.workers.map((worker) => compareWork({ ...input, worker }, d, 60_000)));
  const finish = await finishCompare(input, d);
  const task = (await compareStore().getTask(key(job), taskId))!;
  return { start, work, finish, task, tables: await tableResults(task, d) };
}

describe('compare steps', () => {
  it('compares every selected table in parallel chunks and ends SUCCESSFUL, consistent', async () => {
    const job = await newJob('FULL_TRANSFER_COMPLETE');
    const { task } = await createCompare(job.projectId, job.id, { type: 'contents', origin: 'v5' }, deps());
    expect(starts).toEqual([{ mode: 'compare', projectId: job.projectId, jobId: job.id, runId: task.id }]);

    const r = await runAll(job, task.id);

    expect(r.start.workers.length).toBeGreaterThan(1);
    expect(r.task).toMatchObject({ status: 'SUCCESSFUL', workTotal: 4, workDone: 4, rowsCompared: 6600 });
    expect(r.tables.map((t) => [t.source.table, t.status, t.sourceRows, t.targetRows, t.diffRows, t.chunks, t.chunksDone])).toEqual([
      ['t', 'CONSISTENT', 3000, 3000, 0, 3, 3],
      ['k', 'CONSISTENT', 300, 300, 0, 1, 1],
    ]);
    expect([source.rowsRead, target.rowsRead]).toEqual([0, 0]);
    expect([source.closed, target.closed]).toEqual([true, true]);
  });

  it('stores the differing rows of each chunk and counts them per table', async () => {
    const job = await newJob('FULL_TRANSFER_COMPLETE');
    target.set(T('shop'), rowsOf(3000).filter((r) => r.key[0] !== 1500).map((r) => (r.key[0] === 2500 ? { ...r, values: [r.values[0]!, 'x', r.values[2]!] } : r)));
    target.set(K('shop'), keyless(299));
    const { task } = await createCompare(job.projectId, job.id, { type: 'contents', origin: 'v5' }, deps());

    const r = await runAll(job, task.id);

    expect(r.tables.map((t) => [t.source.table, t.status, t.missing, t.extra, t.different, t.diffRows])).toEqual([
      ['t', 'INCONSISTENT', 1, 0, 1, 2],
      ['k', 'INCONSISTENT', 1, 0, 0, 1],
    ]);
    const diffs = await compareStore().listRowDifferences(key(job), task.id);
    expect(diffs.map((d) => [d.tableIndex, d.kind, d.key, d.columns ?? null])).toEqual([
      [0, 'missing', ['1500'], null],
      [0, 'different', ['2500'], ['name']],
      [1, 'missing', [], null],
    ]);
  });

  it('offers the results in the shape the OMS full-verification reads take', async () => {
    const job = await newJob('FULL_TRANSFER_COMPLETE');
    target.set(T('shop'), rowsOf(3000).filter((r) => r.key[0] !== 1500).map((r) => (r.key[0] === 2500 ? { ...r, values: [r.values[0]!, 'x', r.values[2]!] } : r)));
    const { task } = await createCompare(job.projectId, job.id, { type: 'contents', origin: 'oms' }, deps());
    await runAll(job, task.id);

    const tables = await fullVerifyResults(job.projectId, job.id, deps());
    expect(tables).toEqual([
      { taskId: task.id, taskStatus: 'SUCCESSFUL', sourceDb: 'shop', sourceTable: 't', targetDb: 'shop', targetTable: 't', sourceRows: 3000, targetRows: 2999, missing: 1, extra: 0, different: 1, result: 'INCONSISTENT', finishedAt: expect.any(Number) },
      { taskId: task.id, taskStatus: 'SUCCESSFUL', sourceDb: 'shop', sourceTable: 'k', targetDb: 'shop', targetTable: 'k', sourceRows: 300, targetRows: 300, missing: 0, extra: 0, different: 0, result: 'CONSISTENT', finishedAt: expect.any(Number) },
    ]);
    const rows = await fullVerifyInconsistencies(job.projectId, job.id, deps(), { sourceTable: 't' });
    expect(rows).toEqual([
      { taskId: task.id, sourceDb: 'shop', sourceTable: 't', targetDb: 'shop', targetTable: 't', kind: 'missing', keyColumns: ['id'], sourceKey: ['1500'], targetKey: [], sourceSql: "SELECT * FROM `shop`.`t` WHERE `id` = '1500'", targetSql: '' },
      { taskId: task.id, sourceDb: 'shop', sourceTable: 't', targetDb: 'shop', targetTable: 't', kind: 'different', keyColumns: ['id'], sourceKey: ['2500'], targetKey: ['2500'], columns: ['name'], sourceValues: ['name-2500'], targetValues: ['x'], sourceSql: "SELECT * FROM `shop`.`t` WHERE `id` = '2500'", targetSql: "SELECT * FROM `shop`.`t` WHERE `id` = '2500'" },
    ]);
  });

  it('re-checks differences after the lag while incremental sync runs, reporting only rows that still differ', async () => {
    const job = await newJob('INCRE_TRANSFER_STARTED', { run: { runId: 'r', phase: 'incremental', startedAt: 0, cdc: { lagMillis: 5000, eventsPerSecond: 0, eventsApplied: 0, transactionsApplied: 0, updatedAt: 0 } } });
    const lagging = rowsOf(3000).filter((r) => r.key[0] !== 100 && r.key[0] !== 2900);
    lagging.find((r) => r.key[0] === 10)!.values[1] = 'really different';
    target.set(T('shop'), lagging);
    // The lag passes while the worker waits: the two in-flight rows arrive.
    const d = deps({ sleep: async (ms) => void (slept.push(ms), target.set(T('shop'), [...lagging, ...rowsOf(3000).filter((r) => r.key[0] === 100 || r.key[0] === 2900)])) });
    const { task } = await createCompare(job.projectId, job.id, { type: 'contents', origin: 'v5' }, d);

    const r = await runAll(job, task.id, d);

    expect(slept.length).toBeGreaterThan(0);
    expect(slept.every((ms) => ms === 6000)).toBe(true);
    expect(r.tables[0]).toMatchObject({ status: 'INCONSISTENT', missing: 0, different: 1 });
    expect((await compareStore().listRowDifferences(key(job), task.id)).map((x) => x.key)).toEqual([['10']]);
  });

  it('counts rows for a lines compare and reports a missing target table apart', async () => {
    const job = await newJob('INCRE_TRANSFER_STARTED');
    target.set(T('shop'), rowsOf(2990));
    target.description = { databases: [{ db: 'shop', exists: true }], tables: [described(T('shop')), described(K('shop'), false)] };
    const { task } = await createCompare(job.projectId, job.id, { type: 'lines', origin: 'v3' }, deps());

    const r = await runAll(job, task.id);

    expect(r.tables.map((t) => [t.source.table, t.status, t.sourceRows, t.targetRows, t.diffRows, t.message ?? ''])).toEqual([
      ['t', 'INCONSISTENT', 3000, 2990, 10, ''],
      ['k', 'CAN_NOT_COMPARE', 0, 0, 0, 'The target table shop.k does not exist.'],
    ]);
  });

  it('limits a compare to the scope it was given', async () => {
    const job = await newJob('FULL_TRANSFER_COMPLETE');
    const { task } = await createCompare(job.projectId, job.id, { type: 'lines', origin: 'v3', scope: [{ db: 'shop', tables: ['k'] }] }, deps());
    const r = await runAll(job, task.id);
    expect(r.tables.map((t) => t.source.table)).toEqual(['k']);
  });

  it('runs an object compare in its first step', async () => {
    const job = await newJob('FULL_TRANSFER_COMPLETE');
    target.description = { databases: [{ db: 'shop', exists: true }], tables: [described(T('shop')), { ...described(K('shop'), true, false), columns: cols.slice(0, 2) }] };
    const { task } = await createCompare(job.projectId, job.id, { type: 'object', origin: 'v5' }, deps());
    const r = await runAll(job, task.id);
    expect(r.start.workers).toEqual([]);
    expect(r.task.status).toBe('SUCCESSFUL');
    expect(r.task.objectOverview?.map((o) => [o.type, o.status])).toEqual([['DB', 'CONSISTENT'], ['TABLE', 'INCONSISTENT'], ['INDEX', 'CONSISTENT']]);
    expect((await compareStore().listObjectDifferences(key(job), task.id)).map((x) => x.what)).toEqual(['column amount missing on the target']);
  });

  it('waits for a start time, and plans only when it has come', async () => {
    const job = await newJob('FULL_TRANSFER_COMPLETE');
    const { task } = await createCompare(job.projectId, job.id, { type: 'lines', origin: 'v3', startAt: Date.now() + 90_000 }, deps());
    const input = { projectId: job.projectId, jobId: job.id, taskId: task.id };
    const early = await startCompare(input, deps());
    expect(early).toMatchObject({ stop: false, wait: true, workers: [] });
    expect(early.waitSeconds).toBeGreaterThan(80);
    expect((await compareStore().getTask(key(job), task.id))!.status).toBe('WAITING_FOR_RUNNING');
    const later = await startCompare(input, deps({ now: () => Date.now() + 100_000 }));
    expect(later).toMatchObject({ wait: false, workers: [0, 1] });
  });

  it('stops every worker of a cancelled compare and keeps it CANCELLED', async () => {
    const job = await newJob('FULL_TRANSFER_COMPLETE');
    const { task } = await createCompare(job.projectId, job.id, { type: 'contents', origin: 'v5' }, deps());
    const input = { projectId: job.projectId, jobId: job.id, taskId: task.id };
    await startCompare(input, deps());
    await cancelCompare(job.projectId, job.id, task.id, deps());

    expect(await compareWork({ ...input, worker: 0 }, deps(), 60_000)).toEqual({ stop: true, more: false, done: 0 });
    await finishCompare(input, deps());
    const t = (await compareStore().getTask(key(job), task.id))!;
    expect(t.status).toBe('CANCELLED');
    expect((await tableResults(t, deps())).map((x) => x.status)).toEqual(['FAILED_TO_COMPARE', 'FAILED_TO_COMPARE']);
    // cancelling again is harmless; a failure reported after the cancel changes nothing
    await cancelCompare(job.projectId, job.id, task.id, deps());
    await markCompareFailed({ ...input, error: { Error: 'X', Cause: 'late' } }, deps());
    expect((await compareStore().getTask(key(job), task.id))!.status).toBe('CANCELLED');
  });

  it('marks one table FAILED_TO_COMPARE when its database refuses, and compares the others', async () => {
    const job = await newJob('FULL_TRANSFER_COMPLETE');
    target.digestRange = async (range) => {
      if (range.table.table === 'k') throw new FatalEngineError('FUNCTION md5 does not exist');
      return FakeComparer.prototype.digestRange.call(target, range);
    };
    const { task } = await createCompare(job.projectId, job.id, { type: 'contents', origin: 'v5' }, deps());
    const r = await runAll(job, task.id);
    expect(r.task.status).toBe('SUCCESSFUL');
    expect(r.tables.map((t) => [t.source.table, t.status, t.message ?? ''])).toEqual([
      ['t', 'CONSISTENT', ''],
      ['k', 'FAILED_TO_COMPARE', 'FUNCTION md5 does not exist'],
    ]);
  });

  it('records why a compare failed', async () => {
    const job = await newJob('FULL_TRANSFER_COMPLETE');
    const { task } = await createCompare(job.projectId, job.id, { type: 'lines', origin: 'v5' }, deps());
    await markCompareFailed({ projectId: job.projectId, jobId: job.id, taskId: task.id, error: { Error: 'Error', Cause: JSON.stringify({ errorMessage: 'connection refused' }) } }, deps());
    expect(await compareStore().getTask(key(job), task.id)).toMatchObject({ status: 'FAILED', error: 'connection refused' });
  });
});

describe('compare commands', () => {
  it.each(['CONFIGURATION', 'FULL_TRANSFER_STARTED', 'PAUSING', 'RELEASE_RESOURCE_COMPLETE'] as JobStatus[])('refuses a compare while the job is %s', async (status) => {
    const job = await newJob(status);
    await expect(createCompare(job.projectId, job.id, { type: 'contents', origin: 'v5' }, deps())).rejects.toMatchObject({ name: 'InvalidTransitionError', status: 400, codes: { v3: 'DRS.M00304', v5: 'DRS.10010007' } });
    expect(starts).toEqual([]);
  });

  it('allows one unfinished data-level compare per job: refuse, keep or cancel the first', async () => {
    const job = await newJob('INCRE_TRANSFER_STARTED');
    const first = (await createCompare(job.projectId, job.id, { type: 'lines', origin: 'v5' }, deps())).task;
    await expect(createCompare(job.projectId, job.id, { type: 'contents', origin: 'v5' }, deps())).rejects.toMatchObject({ name: 'ConflictError' });
    expect(await createCompare(job.projectId, job.id, { type: 'contents', origin: 'v3' }, deps(), 'keep')).toMatchObject({ created: false, task: { id: first.id } });
    // an object compare may run beside it
    expect((await createCompare(job.projectId, job.id, { type: 'object', origin: 'v5' }, deps())).created).toBe(true);
    const second = await createCompare(job.projectId, job.id, { type: 'contents', origin: 'v3' }, deps(), 'cancel');
    expect(second.created).toBe(true);
    expect((await compareStore().getTask(key(job), first.id))!.status).toBe('CANCELLED');
  });

  it('records a compare whose workflow could not start as FAILED', async () => {
    const job = await newJob('INCRE_TRANSFER_STARTED');
    const d = deps({ workflow: async () => ({ start: async () => Promise.reject(new Error('throttled')) }) });
    await expect(createCompare(job.projectId, job.id, { type: 'lines', origin: 'v5' }, d)).rejects.toThrow('throttled');
    const [t] = await compareStore().listTasks(key(job));
    expect(t).toMatchObject({ status: 'FAILED', error: 'The compare could not be started: throttled' });
  });
});

describe('the periodic compare policy', () => {
  const policy = { status: 'OPEN' as const, period: '* * 1,3', beginTime: '08:00:00', endTime: '20:00:00', compareType: ['lines'], comparePolicy: 'normal' as const, intervalHour: 6, updatedAt: 0 };

  it('runs on the chosen weekdays, inside the window, every interval', () => {
    const mon = Date.UTC(2024, 0, 1); // a Monday
    expect(weekdays('* * 3,1,1')).toEqual([1, 3]);
    expect(new Date(nextCompareTime(policy, mon)!).toISOString()).toBe('2024-01-01T08:00:00.000Z');
    expect(new Date(nextCompareTime(policy, mon + 9 * 3_600_000)!).toISOString()).toBe('2024-01-01T14:00:00.000Z');
    expect(new Date(nextCompareTime(policy, mon + 21 * 3_600_000)!).toISOString()).toBe('2024-01-03T08:00:00.000Z');
    expect(nextCompareTime({ ...policy, status: 'CLOSED' }, mon)).toBeUndefined();
    expect(() => weekdays('every day')).toThrow(/period/);
  });

  it('starts the compares of an open policy once when due', async () => {
    const job = await newJob('INCRE_TRANSFER_STARTED');
    await updateComparePolicy(job.projectId, job.id, { action: 'open', compareType: ['object_comparison', 'lines', 'account'], beginTime: '00:00:00', endTime: '23:59:59', intervalHour: 1 }, deps({ now: () => Date.now() - 2 * 3_600_000 }));
    const started = await startDueCompares(deps());
    const tasks = (await compareStore().listTasks(key(job))).filter((t) => started.includes(t.id));
    expect(tasks.map((t) => [t.type, t.origin]).sort()).toEqual([['lines', 'policy'], ['object', 'policy']]);
    expect((await startDueCompares(deps())).filter((id) => tasks.some((t) => t.id === id))).toEqual([]);
  });
});
