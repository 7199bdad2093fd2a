/**
 * Compare tasks and their results in the single table, under the job's partition (so deleting a
 * job deletes its compares, and no key reaches another project):
 *   J#<project>#<job>   CMP#<task>                              the task (status, progress, object overview)
 *   J#<project>#<job>   CMPT#<task>#<table 6>                   one table's result (counts, status, columns compared)
 *   J#<project>#<job>   CMPW#<task>#<table 6>#<n 6>             one unit of work (a row count or a key range), leased
 *   J#<project>#<job>   CMPX#<task>#<seq 6>                     one object difference
 *   J#<project>#<job>   CMPD#<task>#<table 6>#<n 6>#<seq 6>     one differing row, with its key
 *   J#<project>#<job>   CMPPOLICY                               the periodic compare policy
 * A task write is conditional on the version read; a work item is claimed and completed
 * conditionally on its lease, so two workers never both own it and a worker that lost its lease
 * cannot overwrite the result of the one that took over.
 */
import { randomUUID } from 'node:crypto';
import type { CompareTask, CompareWork, ComparePolicy, ObjectDifference, RowDifference, TableResult } from '../compare/model.js';
import { ConcurrentUpdateError, NotFoundError, type ErrorCodes } from '../errors.js';
import { jobPk } from './job-store.js';
import { ConditionFailedError, perTable, type Item, type Table } from './table.js';

const pad = (n: number) => String(n).padStart(6, '0');
export const COMPARE_NOT_FOUND: ErrorCodes = { v3: 'DRS.M05003', v5: 'DRS.10000010', oms: 'PARAM_ERROR' };

type TaskItem = Item & { data: CompareTask; version: number; status: string };
type JobKey = { projectId: string; jobId: string };

export class CompareStore {
  constructor(private readonly t: Table) {}

  private pk(k: JobKey) {
    return jobPk(k.projectId, k.jobId);
  }

  // --- tasks --------------------------------------------------------------------------------

  async createTask(task: CompareTask): Promise<void> {
    await this.t.put({ pk: this.pk(task), sk: `CMP#${task.id}`, data: task, version: 1, status: task.status }, { ifNotExists: true });
  }

  async getTask(k: JobKey, id: string): Promise<CompareTask | undefined> {
    return (await this.t.get<TaskItem>(this.pk(k), `CMP#${id}`))?.data;
  }

  async requireTask(k: JobKey, id: string): Promise<CompareTask> {
    const t = await this.getTask(k, id);
    if (!t) throw new NotFoundError('compare task', id, COMPARE_NOT_FOUND);
    return t;
  }

  /** Every compare task of the job, newest first. */
  async listTasks(k: JobKey): Promise<CompareTask[]> {
    const items = await this.t.query<TaskItem>(this.pk(k), { skPrefix: 'CMP#' });
    return items.map((i) => i.data).sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
  }

  /** Load → change → conditional save, retried from a fresh read when another writer won. */
  async mutateTask(k: JobKey, id: string, change: (t: CompareTask) => CompareTask): Promise<CompareTask> {
    for (let attempt = 0; ; attempt++) {
      const item = await this.t.get<TaskItem>(this.pk(k), `CMP#${id}`);
      if (!item) throw new NotFoundError('compare task', id, COMPARE_NOT_FOUND);
      const next = change(structuredClone(item.data));
      if (JSON.stringify(next) === JSON.stringify(item.data)) return item.data;
      try {
        await this.t.put({ pk: item.pk, sk: item.sk, data: next, version: item.version + 1, status: next.status }, { expectedVersion: item.version });
        return next;
      } catch (e) {
        if (!(e instanceof ConditionFailedError)) throw e;
        if (attempt >= 6) throw new ConcurrentUpdateError(`compare task ${id}`, { cause: e });
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
      }
    }
  }

  /** The task and everything under it. */
  async deleteTask(k: JobKey, id: string): Promise<void> {
    const all = await this.t.query(this.pk(k), { skPrefix: 'CMP' });
    const mine = all.filter((i) => i.sk === `CMP#${id}` || [`CMPT#${id}#`, `CMPW#${id}#`, `CMPX#${id}#`, `CMPD#${id}#`].some((p) => i.sk.startsWith(p)));
    await this.t.batchWrite([], mine.map((i) => ({ pk: i.pk, sk: i.sk })));
  }

  // --- table results ----------------------------------------------------------------------

  async putTables(k: JobKey, taskId: string, tables: TableResult[]): Promise<void> {
    await this.t.batchWrite(tables.map((r) => ({ pk: this.pk(k), sk: `CMPT#${taskId}#${pad(r.index)}`, data: r })));
  }

  async listTables(k: JobKey, taskId: string): Promise<TableResult[]> {
    return (await this.t.query<Item & { data: TableResult }>(this.pk(k), { skPrefix: `CMPT#${taskId}#` })).map((i) => i.data);
  }

  // --- work items -------------------------------------------------------------------------

  private workSk(taskId: string, w: Pick<CompareWork, 'tableIndex' | 'n'>) {
    return `CMPW#${taskId}#${pad(w.tableIndex)}#${pad(w.n)}`;
  }

  async putWork(k: JobKey, taskId: string, work: CompareWork[]): Promise<void> {
    await this.t.batchWrite(work.map((w) => ({ pk: this.pk(k), sk: this.workSk(taskId, w), data: w, status: w.status })));
  }

  async listWork(k: JobKey, taskId: string): Promise<CompareWork[]> {
    return (await this.t.query<Item & { data: CompareWork }>(this.pk(k), { skPrefix: `CMPW#${taskId}#` })).map((i) => i.data);
  }

  /**
   * Claim a work item for `owner` (`<task>:<worker>:<nonce>`): a pending one, or a running one
   * whose lease expired (its worker died). Conditional on the status and lease read.
   */
  async claimWork(k: JobKey, taskId: string, owner: string, leaseMs: number, now = Date.now()): Promise<CompareWork | undefined> {
    const items = await this.t.query<Item & { data: CompareWork; lease?: string }>(this.pk(k), { skPrefix: `CMPW#${taskId}#` });
    const candidates = items.filter((i) => i.data.status === 'pending' || (i.data.status === 'running' && (i.data.leaseUntil ?? 0) < now));
    const start = candidates.length ? Math.floor(Math.random() * Math.min(candidates.length, 8)) : 0;
    for (let j = 0; j < candidates.length; j++) {
      const item = candidates[(start + j) % candidates.length]!;
      const next: CompareWork = { ...item.data, status: 'running', leaseOwner: owner, leaseUntil: now + leaseMs, attempts: item.data.attempts + 1 };
      try {
        await this.t.update(item.pk, item.sk, { set: { data: next, status: 'running', lease: `${owner}#${next.leaseUntil}` }, when: { status: item.data.status, ...(item.lease !== undefined ? { lease: item.lease } : {}) } });
        return next;
      } catch (e) {
        if (!(e instanceof ConditionFailedError)) throw e;
      }
    }
    return undefined;
  }

  async renewLease(k: JobKey, taskId: string, w: CompareWork, owner: string, leaseUntil: number): Promise<boolean> {
    try {
      await this.t.update(this.pk(k), this.workSk(taskId, w), { set: { data: { ...w, leaseUntil }, lease: `${owner}#${leaseUntil}` }, when: { lease: `${owner}#${w.leaseUntil}` } });
      w.leaseUntil = leaseUntil;
      return true;
    } catch (e) {
      if (e instanceof ConditionFailedError) return false;
      throw e;
    }
  }

  /** Mark done with its counts, only by the lease holder. */
  async completeWork(k: JobKey, taskId: string, w: CompareWork, owner: string, result: Partial<CompareWork>): Promise<boolean> {
    const next: CompareWork = { ...w, ...result, status: 'done', doneAt: Date.now(), leaseOwner: undefined, leaseUntil: undefined };
    try {
      await this.t.update(this.pk(k), this.workSk(taskId, w), { set: { data: next, status: 'done', lease: `done#${randomUUID()}` }, when: { lease: `${owner}#${w.leaseUntil}` } });
      return true;
    } catch (e) {
      if (e instanceof ConditionFailedError) return false;
      throw e;
    }
  }

  // --- differences ------------------------------------------------------------------------

  async putObjectDifferences(k: JobKey, taskId: string, diffs: ObjectDifference[]): Promise<void> {
    await this.t.batchWrite(diffs.map((d, i) => ({ pk: this.pk(k), sk: `CMPX#${taskId}#${pad(i)}`, data: d })));
  }

  async listObjectDifferences(k: JobKey, taskId: string): Promise<ObjectDifference[]> {
    return (await this.t.query<Item & { data: ObjectDifference }>(this.pk(k), { skPrefix: `CMPX#${taskId}#` })).map((i) => i.data);
  }

  /** Replace the row differences of one work item (a redone item leaves no stale rows behind). */
  async replaceRowDifferences(k: JobKey, taskId: string, w: Pick<CompareWork, 'tableIndex' | 'n'>, diffs: RowDifference[]): Promise<void> {
    const prefix = `CMPD#${taskId}#${pad(w.tableIndex)}#${pad(w.n)}#`;
    const old = await this.t.query(this.pk(k), { skPrefix: prefix });
    const keep = new Set(diffs.map((_, i) => `${prefix}${pad(i)}`));
    await this.t.batchWrite(
      diffs.map((d, i) => ({ pk: this.pk(k), sk: `${prefix}${pad(i)}`, data: d })),
      old.filter((o) => !keep.has(o.sk)).map((o) => ({ pk: o.pk, sk: o.sk })),
    );
  }

  /** Row differences of a task, or of one of its tables, in table/key-range order. */
  async listRowDifferences(k: JobKey, taskId: string, tableIndex?: number): Promise<RowDifference[]> {
    const prefix = tableIndex === undefined ? `CMPD#${taskId}#` : `CMPD#${taskId}#${pad(tableIndex)}#`;
    return (await this.t.query<Item & { data: RowDifference }>(this.pk(k), { skPrefix: prefix })).map((i) => i.data);
  }

  // --- policy -----------------------------------------------------------------------------

  async getPolicy(k: JobKey): Promise<ComparePolicy | undefined> {
    return (await this.t.get<Item & { data: ComparePolicy }>(this.pk(k), 'CMPPOLICY'))?.data;
  }

  async putPolicy(k: JobKey, policy: ComparePolicy): Promise<void> {
    await this.t.put({ pk: this.pk(k), sk: 'CMPPOLICY', data: policy, gsi1pk: policy.status === 'OPEN' ? 'CMPPOLICY#OPEN' : undefined, gsi1sk: policy.status === 'OPEN' ? `${k.projectId}#${k.jobId}` : undefined } as Item);
  }

  /** Open policies of every project (the periodic compare trigger). Eventually consistent. */
  async listOpenPolicies(): Promise<(JobKey & { policy: ComparePolicy })[]> {
    const items = await this.t.query<Item & { data: ComparePolicy; gsi1sk: string }>('CMPPOLICY#OPEN', { index: 'gsi1' });
    return items.map((i) => {
      const [projectId, jobId] = i.gsi1sk.split('#') as [string, string];
      return { projectId, jobId, policy: i.data };
    });
  }
}

export const compareStore = perTable((t) => new CompareStore(t));
