/**
 * Jobs and their bookkeeping in the single table. Item keys:
 *   P#<project>          JOB#<id>               the job (gsi1: STATUS#<status> / <project>#<id>;
 *                                               gsi2: JOBS#<project> / <create time>#<id>, projecting
 *                                               only `summary`, so listing reads small items)
 *   P#<project>          JOBNAME#<lower name>   name claim (lib/store/name-claims.ts)
 *   J#<project>#<id>     CHUNK#<table>#<n>      one full-load chunk: bounds, status, lease, rows
 *   J#<project>#<id>     TABLE#<n>              one selected table: mapping, schema summary, estimates
 *   J#<project>#<id>     LOG#<ts>#<seq>         job log lines (job detail type=log)
 *   J#<project>#<id>     DIRTY#<ts>#<seq>       abnormal data: changes skipped by the user's policy
 *   J#<project>#<id>     OBJECT#<kind>#<name>   a migrated view, routine, trigger, event, account or role and its outcome
 * Every key names the project, so no query can reach another project's items. A job write is
 * conditional on the version read (optimistic lock): racing commands cannot both win.
 */
import { randomUUID } from 'node:crypto';
import type { Chunk, ColumnMap, TableRef } from '../engines/engine.js';
import { ConcurrentUpdateError } from '../errors.js';
import type { Job } from '../job/job.js';
import type { JobStatus } from '../job/transitions.js';
import { NameClaims } from './name-claims.js';
import { ConditionFailedError, perTable, type Item, type Table } from './table.js';

const projectPk = (projectId: string) => `P#${projectId}`;
const jobSk = (id: string) => `JOB#${id}`;
export const jobPk = (projectId: string, id: string) => `J#${projectId}#${id}`;

type JobItem = Item & { data: Job; version: number };

/** What listing filters, sorts and counts on: projected alone into gsi2. */
export interface JobSummary {
  id: string;
  name: string;
  status: JobStatus;
  createTime: number;
  jobType: string;
  engineType: string;
  netType: string;
  enterpriseProjectId: string;
  tags: { key: string; value: string }[];
  hosts: string[];
  instanceIds: string[];
  precheckId?: string;
}

export function summaryOf(job: Job): JobSummary {
  const instance = (e: Job['source']) => (e.extra.endpoint as { instance_id?: string } | undefined)?.instance_id;
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    createTime: job.createTime,
    jobType: job.jobType,
    engineType: job.engineType,
    netType: job.netType,
    enterpriseProjectId: job.enterpriseProjectId,
    tags: job.tags,
    hosts: [job.source.host, job.target.host].filter((h): h is string => !!h),
    instanceIds: [instance(job.source), instance(job.target)].filter((h): h is string => !!h),
    precheckId: job.precheck?.id,
  };
}

export type ChunkStatus = 'pending' | 'running' | 'done';

export interface ChunkRecord {
  /** Position of the table in the job's plan. */
  tableIndex: number;
  chunk: Chunk;
  status: ChunkStatus;
  rows: number;
  bytes: number;
  /** Claim of the worker copying it; expired leases are reclaimed (a crashed worker). */
  leaseOwner?: string;
  leaseUntil?: number;
  attempts: number;
  doneAt?: number;
}

export interface TableRecord {
  index: number;
  source: TableRef;
  target: TableRef;
  /** Column renames and drops (TableMapping.columns). */
  columns?: ColumnMap;
  where?: string;
  /** The copy key, source column names. */
  keyColumns: string[];
  estimatedRows: number;
  estimatedBytes: number;
  chunkCount: number;
}

/** A change the job did not apply because the user chose to skip it (DESIGN §5 rule 4). */
export interface AbnormalRecord {
  db_name: string;
  schema_name: string;
  table_name: string;
  /** What was skipped: the DDL statement, or a description of the row change. */
  content: string;
  reason: string;
  /** Source commit time, epoch ms. */
  commit_time: number;
  create_time: number;
}

/** A view, routine, trigger, event, account or role the job migrated (or tried to), and how it went. */
export interface ObjectRecord {
  kind: 'view' | 'procedure' | 'function' | 'trigger' | 'event' | 'user' | 'role';
  source: { db?: string; schema?: string; name: string; signature?: string };
  target: { db?: string; schema?: string; name: string };
  status: 'done' | 'existing' | 'failed';
  /** Why it failed, or what the user should know (never a credential). */
  message?: string;
  /** Accounts: privileges not recreated, parent roles missing on the target. */
  skipped?: string[];
  missingParents?: string[];
  at: number;
}

export interface LogLine {
  level: 'INFO' | 'WARN' | 'ERROR';
  message: string;
  create_time: number;
}

const pad = (n: number, w = 6) => String(n).padStart(w, '0');

export class JobStore {
  private readonly names: NameClaims;
  constructor(private readonly t: Table) {
    this.names = new NameClaims(t, 'JOB');
  }

  claimName(projectId: string, name: string, jobId: string): Promise<boolean> {
    return this.names.claim(projectId, name, jobId);
  }
  releaseName(projectId: string, name: string, jobId: string): Promise<void> {
    return this.names.release(projectId, name, jobId);
  }
  isNameTaken(projectId: string, name: string): Promise<boolean> {
    return this.names.isTaken(projectId, name);
  }

  private item(job: Job): JobItem {
    return {
      pk: projectPk(job.projectId),
      sk: jobSk(job.id),
      gsi1pk: `STATUS#${job.status}`,
      gsi1sk: `${job.projectId}#${job.id}`,
      gsi2pk: `JOBS#${job.projectId}`,
      gsi2sk: `${pad(job.createTime, 15)}#${job.id}`,
      summary: summaryOf(job),
      data: job,
      version: job.version,
    };
  }

  async create(job: Job): Promise<void> {
    await this.t.put(this.item(job), { ifNotExists: true });
  }

  async get(projectId: string, id: string): Promise<Job | undefined> {
    return (await this.t.get<JobItem>(projectPk(projectId), jobSk(id)))?.data;
  }

  /** Write `job` only if the stored version is `job.version - 1`. */
  async save(job: Job): Promise<void> {
    try {
      await this.t.put(this.item(job), { expectedVersion: job.version - 1 });
    } catch (e) {
      if (e instanceof ConditionFailedError) throw new ConcurrentUpdateError(`job ${job.id}`, { cause: e });
      throw e;
    }
  }

  /** The project's jobs as summaries, from the projected index (eventually consistent). */
  async listSummaries(projectId: string): Promise<JobSummary[]> {
    return (await this.t.query<Item & { summary: JobSummary }>(`JOBS#${projectId}`, { index: 'gsi2' })).map((i) => i.summary);
  }

  async list(projectId: string): Promise<Job[]> {
    return (await this.t.query<JobItem>(projectPk(projectId), { skPrefix: 'JOB#' })).map((i) => i.data);
  }

  /** Jobs of every project in a status (scheduler, crash recovery). Eventually consistent. */
  async listByStatus(status: JobStatus): Promise<Job[]> {
    return (await this.t.query<JobItem>(`STATUS#${status}`, { index: 'gsi1' })).map((i) => i.data);
  }

  /** Remove the job and everything under it. */
  async delete(job: Job): Promise<void> {
    const children = await this.t.query(jobPk(job.projectId, job.id));
    await this.t.batchWrite([], children.map((c) => ({ pk: c.pk, sk: c.sk })));
    await this.t.delete(projectPk(job.projectId), jobSk(job.id));
    await this.names.release(job.projectId, job.name, job.id);
  }

  // --- full-load plan -------------------------------------------------------------------

  async putTables(job: Job, tables: TableRecord[]): Promise<void> {
    await this.t.batchWrite(tables.map((tr) => ({ pk: jobPk(job.projectId, job.id), sk: `TABLE#${pad(tr.index)}`, data: tr })));
  }

  async listTables(job: Job): Promise<TableRecord[]> {
    return (await this.t.query<Item & { data: TableRecord }>(jobPk(job.projectId, job.id), { skPrefix: 'TABLE#' })).map((i) => i.data);
  }

  async putChunks(job: Job, chunks: ChunkRecord[]): Promise<void> {
    await this.t.batchWrite(chunks.map((c) => ({ pk: jobPk(job.projectId, job.id), sk: `CHUNK#${c.chunk.id}`, data: c, status: c.status })));
  }

  async listChunks(job: Job): Promise<ChunkRecord[]> {
    return (await this.t.query<Item & { data: ChunkRecord }>(jobPk(job.projectId, job.id), { skPrefix: 'CHUNK#' })).map((i) => i.data);
  }

  /**
   * A worker's view of the claimable chunks: read once, claimed one by one, read again only when
   * used up, so claiming all n chunks costs O(n) reads per worker, not O(n²).
   */
  claimer(job: Job, owner: string, leaseMs: number): ChunkClaimer {
    return new ChunkClaimer(this.t, job, owner, leaseMs);
  }

  /** Claim one chunk (see ChunkClaimer). */
  async claimChunk(job: Job, owner: string, leaseMs: number, now = Date.now()): Promise<ChunkRecord | undefined> {
    return this.claimer(job, owner, leaseMs).next(now);
  }

  /** Extend a lease while a long chunk is copied. False when the lease was lost. */
  async renewLease(job: Job, rec: ChunkRecord, owner: string, leaseUntil: number): Promise<boolean> {
    const pk = jobPk(job.projectId, job.id);
    const next = { ...rec, leaseUntil };
    try {
      await this.t.update(pk, `CHUNK#${rec.chunk.id}`, { set: { data: next, lease: `${owner}#${leaseUntil}` }, when: { lease: `${owner}#${rec.leaseUntil}` } });
      rec.leaseUntil = leaseUntil;
      return true;
    } catch (e) {
      if (e instanceof ConditionFailedError) return false;
      throw e;
    }
  }

  /** Mark done, only by the lease holder; a worker that lost its lease does not overwrite. */
  async completeChunk(job: Job, rec: ChunkRecord, owner: string, rows: number, bytes: number): Promise<boolean> {
    const pk = jobPk(job.projectId, job.id);
    const next: ChunkRecord = { ...rec, status: 'done', rows, bytes, doneAt: Date.now(), leaseOwner: undefined, leaseUntil: undefined };
    try {
      await this.t.update(pk, `CHUNK#${rec.chunk.id}`, { set: { data: next, status: 'done', lease: `done#${randomUUID()}` }, when: { lease: `${owner}#${rec.leaseUntil}` } });
      return true;
    } catch (e) {
      if (e instanceof ConditionFailedError) return false;
      throw e;
    }
  }

  async deletePlan(job: Job): Promise<void> {
    const items = await this.t.query(jobPk(job.projectId, job.id));
    const plan = items.filter((i) => i.sk.startsWith('CHUNK#') || i.sk.startsWith('TABLE#') || i.sk.startsWith('OBJECT#'));
    await this.t.batchWrite([], plan.map((i) => ({ pk: i.pk, sk: i.sk })));
  }

  // --- views, routines, triggers, events, accounts ---------------------------------------

  /** Record outcomes; the same object (kind and source name) overwrites its earlier record. */
  async putObjects(job: Job, records: ObjectRecord[]): Promise<void> {
    const key = (r: ObjectRecord) => [r.source.db, r.source.schema, r.source.name, r.source.signature].map((p) => encodeURIComponent(p ?? '')).join('/');
    await this.t.batchWrite(records.map((r) => ({ pk: jobPk(job.projectId, job.id), sk: `OBJECT#${r.kind}#${key(r)}`, data: r })));
  }

  async listObjects(job: Pick<Job, 'projectId' | 'id'>): Promise<ObjectRecord[]> {
    return (await this.t.query<Item & { data: ObjectRecord }>(jobPk(job.projectId, job.id), { skPrefix: 'OBJECT#' })).map((i) => i.data);
  }

  // --- logs -------------------------------------------------------------------------------

  async appendLog(job: Pick<Job, 'projectId' | 'id'>, level: LogLine['level'], message: string): Promise<void> {
    const now = Date.now();
    await this.t.put({ pk: jobPk(job.projectId, job.id), sk: `LOG#${pad(now, 15)}#${randomUUID().slice(0, 8)}`, data: { level, message: message.slice(0, 2000), create_time: now } });
  }

  async appendAbnormal(job: Pick<Job, 'projectId' | 'id'>, records: AbnormalRecord[]): Promise<void> {
    await this.t.batchWrite(records.map((r, i) => ({ pk: jobPk(job.projectId, job.id), sk: `DIRTY#${pad(r.create_time, 15)}#${String(i).padStart(4, '0')}#${randomUUID().slice(0, 8)}`, data: r })));
  }

  async listAbnormal(job: Pick<Job, 'projectId' | 'id'>): Promise<AbnormalRecord[]> {
    return (await this.t.query<Item & { data: AbnormalRecord }>(jobPk(job.projectId, job.id), { skPrefix: 'DIRTY#' })).map((i) => i.data);
  }

  async listLogs(job: Pick<Job, 'projectId' | 'id'>): Promise<LogLine[]> {
    return (await this.t.query<Item & { data: LogLine }>(jobPk(job.projectId, job.id), { skPrefix: 'LOG#', descending: true })).map((i) => i.data);
  }
}

export const jobStore = perTable((t) => new JobStore(t));

/**
 * Claims chunks for one worker (`owner` = `<runId>:<worker>:<nonce>`): a chunk that is pending, or
 * running under an expired lease (its worker died) or a lease of an older run (that run was
 * stopped or its process died). Each claim is conditional on the status and lease read, so two
 * workers never copy the same chunk at the same time.
 */
export class ChunkClaimer {
  private queue: (Item & { data: ChunkRecord; lease?: string })[] = [];
  constructor(
    private readonly t: Table,
    private readonly job: Job,
    private readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  private async candidates(now: number): Promise<(Item & { data: ChunkRecord; lease?: string })[]> {
    const run = this.owner.split(':')[0];
    const all = (await this.t.query<Item & { data: ChunkRecord; lease?: string }>(jobPk(this.job.projectId, this.job.id), { skPrefix: 'CHUNK#' })).filter(
      (i) => i.data.status === 'pending' || (i.data.status === 'running' && ((i.data.leaseUntil ?? 0) < now || !i.data.leaseOwner?.startsWith(`${run}:`))),
    );
    // Workers start at different places so they do not all race for the same chunks.
    const start = all.length ? Math.floor(Math.random() * all.length) : 0;
    return [...all.slice(start), ...all.slice(0, start)];
  }

  async next(now = Date.now()): Promise<ChunkRecord | undefined> {
    const pk = jobPk(this.job.projectId, this.job.id);
    for (let refreshed = false; ; refreshed = true) {
      while (this.queue.length) {
        const item = this.queue.shift()!;
        const next: ChunkRecord = { ...item.data, status: 'running', leaseOwner: this.owner, leaseUntil: now + this.leaseMs, attempts: item.data.attempts + 1 };
        try {
          await this.t.update(pk, item.sk, { set: { data: next, status: 'running', lease: `${this.owner}#${next.leaseUntil}` }, when: { status: item.data.status, ...(item.lease !== undefined ? { lease: item.lease } : {}) } });
          return next;
        } catch (e) {
          if (!(e instanceof ConditionFailedError)) throw e;
        }
      }
      if (refreshed) return undefined;
      this.queue = await this.candidates(now);
    }
  }
}
