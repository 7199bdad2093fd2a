/**
 * v3 disaster-recovery reads (seed 5.3.1, 6.4.2–6.4.4): RPO/RTO, monitoring data, and the
 * initialization (schema + full load) progress and per-object details. Everything is computed
 * from what the job records: its plan (tables, chunks), its run state and its CDC statistics
 * (lag measured at each checkpoint, positions committed on the target). Figures this deployment
 * does not measure (CPU, memory, disk, bandwidth of a replication VM it does not have) are left
 * out rather than invented.
 */
import { InvalidParameterError } from '../../errors.js';
import type { Reply } from '../../http/envelope.js';
import { getJob, type JobDeps } from '../../job/commands.js';
import type { Job } from '../../job/job.js';
import { jobProgress } from '../../job/queries.js';
import { FAILED_STATUSES } from '../../job/transitions.js';
import { refName } from '../../steps/selection.js';
import { itemError, pageIds, runBatch } from './batch.js';
import { switchover, type SwitchoverDeps } from '../../job/switchover.js';
import { dateTime, isoZ, positionText } from './render.js';

function requireDr(job: Job): Job {
  if (job.jobType !== 'cloudDataGuard') throw new InvalidParameterError('jobs', `job ${job.id} is a ${job.jobType} job; this operation is for disaster-recovery (cloudDataGuard) jobs`);
  return job;
}

/** RPO: how much committed source data the target does not have yet (the measured lag). RTO: time to apply it. */
export async function batchRpoRtoV3(projectId: string, ids: string[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    ids,
    async (id) => {
      const job = requireDr(await getJob(projectId, id, deps));
      const cdc = job.run?.cdc;
      const applied = job.run?.appliedPosition ?? job.run?.startPosition;
      const info = {
        check_point: positionText(applied),
        delay: cdc ? String(cdc.lagMillis) : '',
        gtid_set: applied?.kind === 'mysql' ? (applied.gtid ?? '') : '',
        time: dateTime(cdc?.updatedAt ?? job.updateTime),
      };
      return { job_id: id, rpo_info: info, rto_info: info, error_code: '', error_msg: '' };
    },
    (id, e) => ({ job_id: id, ...itemError(e) }),
    { status: 202 },
  );
}

/** disaster-recovery-monitoring-data (`data_guard_minitor`, sic): positions, delays, rates, rows moved. */
export async function monitoringDataV3(projectId: string, ids: string[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    ids,
    async (id) => {
      const job = requireDr(await getJob(projectId, id, deps));
      const p = await jobProgress(job, deps);
      const cdc = job.run?.cdc;
      const position = positionText(job.run?.appliedPosition ?? job.run?.startPosition);
      const healthy = !FAILED_STATUSES.includes(job.status);
      const elapsed = cdc ? Math.max(1, (cdc.updatedAt - (job.run?.incrementalStartedAt ?? job.run?.startedAt ?? cdc.updatedAt)) / 1000) : 1;
      return {
        id,
        data_guard_minitor: {
          src_normal: healthy,
          dst_normal: healthy,
          sr_delay: cdc?.lagMillis ?? 0,
          dst_delay: cdc?.lagMillis ?? 0,
          sr_offset: position,
          node_offset: position,
          dst_offset: position,
          src_rps: String(cdc?.eventsPerSecond ?? 0),
          dst_rps: String(cdc?.eventsPerSecond ?? 0),
          trans_lines: String(p.rowsDone + (cdc?.eventsApplied ?? 0)),
          trans_inMB: String(Math.round(p.bytesDone / 1024 / 1024)),
          migration_bytes_per_second: Math.round(p.bytesDone / Math.max(1, p.elapsedSeconds || elapsed)),
        },
      };
    },
    (id, e) => ({ id, data_guard_minitor: {}, ...itemError(e) }),
    { status: 200 },
  );
}

/** batch-struct-process: initialization progress per object type (status 1 = running, 2 = done). */
export async function batchStructProcessV3(projectId: string, ids: string[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    ids,
    async (id) => {
      const job = await getJob(projectId, id, deps);
      const p = await jobProgress(job, deps);
      const run = job.run;
      const dbs = new Set(p.tables.map((t) => t.source.db));
      const start = run?.startedAt ?? 0;
      const done = (b: boolean | undefined) => (b ? 2 : 1);
      const result = [
        { type: 'database', status: done(run?.schemaCopied), src_count: dbs.size, dst_count: run?.schemaCopied ? dbs.size : 0, start_time: start, ...(run?.schemaCopied ? { end_time: run.fullLoadStartedAt ?? start } : {}) },
        { type: 'table_structure', status: done(run?.schemaCopied), src_count: p.tables.length, dst_count: run?.schemaCopied ? p.tables.length : 0, start_time: start, ...(run?.schemaCopied ? { end_time: run.fullLoadStartedAt ?? start } : {}) },
        { type: 'table', status: done(!!run?.fullLoadCompletedAt), src_count: p.tables.length, dst_count: p.tables.filter((t) => t.status === 'done').length, start_time: run?.fullLoadStartedAt ?? start, ...(run?.fullLoadCompletedAt ? { end_time: run.fullLoadCompletedAt } : {}) },
        { type: 'table_indexes', status: done(run?.indexesCreated), src_count: p.tables.length, dst_count: run?.indexesCreated ? p.tables.length : 0, start_time: run?.fullLoadStartedAt ?? start, ...(run?.indexesCreated && run.fullLoadCompletedAt ? { end_time: run.fullLoadCompletedAt } : {}) },
      ];
      return { job_id: id, error_code: '', error_message: '', struct_process: { create_time: String(Date.now()), result: run ? result : [] } };
    },
    (id, e) => ({ job_id: id, ...itemError(e, 'error_message') }),
    { status: 200 },
  );
}

export const STRUCT_TYPES = ['database', 'schema', 'table', 'view', 'procedure', 'trigger', 'index', 'table_indexs', 'table_structure'] as const;
export type StructType = (typeof STRUCT_TYPES)[number];

/**
 * {type}/batch-struct-detail: the objects of one type with their progress (0–100). Views,
 * procedures (with functions) and triggers are the ones the job migrated or tried to (100 when
 * created or already there, 0 when it failed or is still to come), as recorded by the run.
 */
export async function batchStructDetailV3(projectId: string, type: StructType, ids: string[], page: { cur_page?: number; per_page?: number } | undefined, deps: JobDeps): Promise<Reply> {
  return runBatch(
    ids,
    async (id) => {
      const job = await getJob(projectId, id, deps);
      const p = await jobProgress(job, deps);
      const run = job.run;
      let list: { progress: number; src_DB: string; src_TB: string; dst_DB: string; dst_TB: string }[] = [];
      const tables = p.tables;
      switch (type) {
        case 'database': {
          const seen = new Map<string, string>();
          for (const t of tables) seen.set(t.source.db, t.target.db);
          list = [...seen].map(([s, d]) => ({ progress: run?.schemaCopied ? 100 : 0, src_DB: s, src_TB: '', dst_DB: d, dst_TB: '' }));
          break;
        }
        case 'schema': {
          const seen = new Map<string, { s: string; d: string; sdb: string; ddb: string }>();
          for (const t of tables) if (t.source.schema) seen.set(`${t.source.db}.${t.source.schema}`, { s: t.source.schema, d: t.target.schema ?? t.source.schema, sdb: t.source.db, ddb: t.target.db });
          list = [...seen.values()].map((x) => ({ progress: run?.schemaCopied ? 100 : 0, src_DB: x.sdb, src_TB: x.s, dst_DB: x.ddb, dst_TB: x.d }));
          break;
        }
        case 'table':
          list = tables.map((t) => ({ progress: t.percent, src_DB: t.source.db, src_TB: refName({ ...t.source, db: '' }).replace(/^\./, ''), dst_DB: t.target.db, dst_TB: refName({ ...t.target, db: '' }).replace(/^\./, '') }));
          break;
        case 'table_structure':
          list = tables.map((t) => ({ progress: run?.schemaCopied ? 100 : 0, src_DB: t.source.db, src_TB: t.source.table, dst_DB: t.target.db, dst_TB: t.target.table }));
          break;
        case 'index':
        case 'table_indexs':
          list = tables.map((t) => ({ progress: run?.indexesCreated ? 100 : 0, src_DB: t.source.db, src_TB: t.source.table, dst_DB: t.target.db, dst_TB: t.target.table }));
          break;
        case 'view':
        case 'procedure':
        case 'trigger': {
          const kinds = type === 'procedure' ? ['procedure', 'function'] : [type];
          list = (await deps.jobs.listObjects(job))
            .filter((o) => kinds.includes(o.kind))
            .map((o) => ({ progress: o.status === 'failed' ? 0 : 100, src_DB: o.source.db ?? '', src_TB: [o.source.schema, o.source.name].filter((x) => x !== undefined).join('.'), dst_DB: o.target.db ?? '', dst_TB: [o.target.schema, o.target.name].filter((x) => x !== undefined).join('.') }));
          break;
        }
        default:
          list = [];
      }
      return { job_id: id, error_code: '', error_message: '', struct_detail: { total_record: list.length, create_time: String(Date.now()), list: pageIds(list, page) } };
    },
    (id, e) => ({ job_id: id, ...itemError(e, 'error_message') }),
    { status: 200 },
  );
}

/** SwitchoverResp's EndpointVo: how the job now reaches each side (no password). */
function endpointVo(e: Job['source'], updated: number) {
  const x = e.extra as { endpoint?: Record<string, string>; cloud?: Record<string, string>; vpc?: Record<string, string> };
  return {
    db_type: e.dbType,
    db_user: e.user ?? '',
    db_port: e.port,
    ip: e.host ?? '',
    db_name: e.dbName,
    instance_id: x.endpoint?.instance_id,
    instance_name: x.endpoint?.instance_name,
    region: x.cloud?.region,
    project_id: x.cloud?.project_id,
    az_code: x.cloud?.az_code,
    vpc_id: x.vpc?.vpc_id,
    subnet_id: x.vpc?.subnet_id,
    security_group_id: x.vpc?.security_group_id,
    ssl_link: e.ssl?.enabled ?? false,
    ssl_cert_name: e.ssl?.certName,
    ssl_cert_check_sum: e.ssl?.checkSum,
    updated_at: isoZ(updated),
  };
}

/**
 * batch-switchover (202): each job switched in turn (lib/job/switchover.ts); the result carries
 * the reversed endpoints and direction, and the RPO/RTO achieved.
 */
export async function batchSwitchoverV3(projectId: string, ids: string[], deps: SwitchoverDeps): Promise<Reply> {
  return runBatch(
    ids,
    async (id) => {
      const { job, record } = await switchover(projectId, id, deps);
      return {
        job_id: id,
        updated_at: isoZ(record.at),
        source_db: endpointVo(job.source, record.at),
        target_db: endpointVo(job.target, record.at),
        job_direction: job.jobDirection,
        is_target_readonly: job.isTargetReadonly,
        rpo_millis: record.rpoMillis,
        rto_millis: record.rtoMillis,
        lag_at_switch_millis: record.lagAtSwitchMillis,
        error_code: '',
        error_msg: '',
      };
    },
    (id, e) => ({ job_id: id, ...itemError(e) }),
    { status: 202 },
  );
}
