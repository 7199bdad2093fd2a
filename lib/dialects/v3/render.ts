/**
 * Jobs rendered in the DRS v3 shapes (SDK models QueryJobResp, JobInfo, QueryJobStatusResp,
 * QueryProgressResp, QueryPreCheckResp, ...). Types exactly as the SDK declares them: epoch
 * milliseconds as strings in create/detail, `db_port` an int, progress and delays strings,
 * `Params`-style booleans as "true"/"false" strings where the model says so. Never a password.
 */
import { jobActions } from '../../job/actions.js';
import { SKIPPABLE_ITEMS } from '../../job/commands.js';
import type { DbObjectSelection, Job, JobEndpoint } from '../../job/job.js';
import type { JobProgress } from '../../job/progress.js';
import { FAILED_STATUSES } from '../../job/transitions.js';
import type { CdcPosition } from '../../engines/engine.js';
import { splitObjectId } from './schemas.js';

export const ms = (t: number | undefined) => (t === undefined ? '' : String(t));

/** `yyyy-MM-dd HH:mm:ss` (UTC), the v3 list and RPO/RTO time format. */
export const dateTime = (t: number | undefined) => (t === undefined ? '' : new Date(t).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ''));

/** `yyyy-MM-ddTHH:mm:ssZ`, the switchover format. */
export const isoZ = (t: number | undefined) => (t === undefined ? '' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));

type Extra = { endpoint?: Record<string, unknown>; cloud?: Record<string, unknown>; vpc?: Record<string, unknown>; v3?: Record<string, unknown> };

/** The v3 Endpoint model of a stored endpoint (no password, no key material). */
export function endpointV3(e: JobEndpoint) {
  const x = e.extra as Extra;
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    db_type: e.dbType,
    az_code: s(x.cloud?.az_code),
    region: s(x.cloud?.region),
    inst_id: s(x.endpoint?.instance_id),
    vpc_id: s(x.vpc?.vpc_id),
    subnet_id: s(x.vpc?.subnet_id),
    security_group_id: s(x.vpc?.security_group_id),
    project_id: s(x.cloud?.project_id),
    db_name: e.dbName,
    db_port: e.port,
    db_user: e.user,
    inst_name: s(x.endpoint?.instance_name),
    ip: e.host,
    mongo_ha_mode: s(x.v3?.mongo_ha_mode),
    safe_mode: typeof x.v3?.safe_mode === 'number' ? x.v3.safe_mode : undefined,
    ssl_cert_check_sum: e.ssl?.checkSum,
    ssl_cert_name: e.ssl?.certName,
    ssl_link: e.ssl?.enabled ?? false,
    topic: s(x.v3?.topic),
    cluster_mode: s(x.v3?.cluster_mode),
  };
}

const isFailed = (j: Job) => FAILED_STATUSES.includes(j.status);

/** batch-status item (QueryJobStatusResp). `error_code` only for a job in a failed status. */
export function statusV3(j: Job) {
  return { id: j.id, status: j.status, error_code: isFailed(j) ? (j.error?.code ?? '') : '', error_message: isFailed(j) ? (j.error?.message ?? '') : '' };
}

export const positionText = (p: CdcPosition | undefined) => (p?.kind === 'mysql' ? `${p.file}:${p.pos}` : p?.kind === 'postgresql' ? p.lsn : '');

/** object_infos[] of the detail: the selection as v3 DatabaseObjectInfo items. */
export function objectInfosV3(sel: DbObjectSelection) {
  const out: { id: string; parent_id: string; type: string; name: string; alias_name: string; select: string }[] = [];
  for (const [db, d] of Object.entries(sel.object_info ?? {})) {
    const hasChildren = !!(d.tables && Object.keys(d.tables).length) || !!(d.schemas && Object.keys(d.schemas).length);
    out.push({ id: db, parent_id: '', type: 'database', name: db, alias_name: d.name ?? db, select: d.all || !hasChildren ? 'true' : 'partial' });
    for (const [t, ts] of Object.entries(d.tables ?? {})) out.push({ id: `${db}-*-${t}`, parent_id: db, type: 'table', name: t, alias_name: ts.name ?? t, select: 'true' });
    for (const [s, ss] of Object.entries(d.schemas ?? {})) {
      out.push({ id: `${db}-*-${s}`, parent_id: db, type: 'schema', name: s, alias_name: ss.name ?? s, select: ss.all || !ss.tables ? 'true' : 'partial' });
      for (const [t, ts] of Object.entries(ss.tables ?? {})) out.push({ id: `${db}-*-${s}-*-${t}`, parent_id: `${db}.${s}`, type: 'table', name: t, alias_name: ts.name ?? t, select: 'true' });
    }
  }
  return out;
}

/** data_transformation of the detail: the row filters of the selection. */
export function dataTransformationV3(sel: DbObjectSelection) {
  const filters: { transformation_info: { transformation_type: string; value: string }; data_transformation_object_infos: { id: string; data_transformation_type: string; db_name: string; schema_name?: string; table_name: string }[] }[] = [];
  for (const [db, d] of Object.entries(sel.object_info ?? {})) {
    const tables = [...Object.entries(d.tables ?? {}).map(([t, ts]) => ({ schema: undefined as string | undefined, t, ts })), ...Object.entries(d.schemas ?? {}).flatMap(([s, ss]) => Object.entries(ss.tables ?? {}).map(([t, ts]) => ({ schema: s as string | undefined, t, ts })))];
    for (const { schema, t, ts } of tables) {
      if (!ts.filtered || !ts.filter_conditions?.[0]) continue;
      filters.push({
        transformation_info: { transformation_type: 'contentConditionalFilter', value: ts.filter_conditions[0] },
        data_transformation_object_infos: [{ id: [db, schema, t].filter((x) => x !== undefined).join('-*-') + '-*-conditionFilter--', data_transformation_type: 'contentConditionalFilter', db_name: db, ...(schema ? { schema_name: schema } : {}), table_name: t }],
      });
    }
  }
  return { total_count: filters.length, filter_conditions: filters };
}

/** The batch-detail item (QueryJobResp). */
export function jobDetailV3(j: Job) {
  const src = j.source.extra as Extra;
  const echo = j.echo as Record<string, unknown>;
  const po = echo.period_order as { period_type?: number; period_num?: number; is_auto_renew?: number } | undefined;
  const failed = isFailed(j);
  return {
    id: j.id,
    parent_id: '',
    name: j.name,
    status: j.status,
    description: j.description,
    create_time: ms(j.createTime),
    task_type: j.taskType,
    source_endpoint: endpointV3(j.source),
    target_endpoint: endpointV3(j.target),
    net_type: j.netType,
    failed_reason: failed ? (j.error?.message ?? '') : '',
    inst_info: { engine_type: j.engineType, inst_type: j.nodeType, ip: '', public_ip: '', start_time: ms(j.startTime), status: 'active' },
    actual_start_time: ms(j.run?.startedAt),
    full_transfer_complete_time: ms(j.run?.fullLoadCompletedAt),
    update_time: ms(j.updateTime),
    job_direction: j.jobDirection,
    original_job_direction: (echo.original_job_direction as string | undefined) ?? j.jobDirection,
    db_use_type: j.jobType,
    need_restart: false,
    is_target_readonly: j.isTargetReadonly,
    conflict_policy: j.policy.conflict_policy ?? 'overwrite',
    filter_ddl_policy: j.policy.filter_ddl_policy ?? '',
    speed_limit: j.speedLimits.map((l) => ({ begin: l.begin, end: l.end, speed: String(l.speed), is_utc: true })),
    schema_type: j.source.dbType === 'postgresql' ? 'PGBaseBackup' : 'Replication',
    node_num: 1,
    object_switch: j.dbObject.object_scope !== 'all',
    master_job_id: '',
    full_mode: '',
    struct_trans: true,
    index_trans: j.policy.index_trans ?? true,
    replace_definer: (j.policy.replace_definer as boolean | undefined) ?? true,
    migrate_user: j.userMigration?.migrateUsers ?? false,
    sync_database: j.dbObject.object_scope === 'database',
    error_code: failed ? (j.error?.code ?? '') : '',
    error_message: failed ? (j.error?.message ?? '') : '',
    target_root_db: j.dbObject.target_root_db ?? {},
    az_code: (src.cloud?.az_code as string | undefined) ?? '',
    vpc_id: (src.vpc?.vpc_id as string | undefined) ?? '',
    subnet_id: (echo.customize_subnet_id as string | undefined) ?? (src.vpc?.subnet_id as string | undefined) ?? '',
    security_group_id: (src.vpc?.security_group_id as string | undefined) ?? '',
    multi_write: j.multiWrite,
    support_ip_v6: false,
    inherit_id: '',
    gtid: j.run?.appliedPosition?.kind === 'mysql' ? (j.run.appliedPosition.gtid ?? '') : '',
    alarm_notify: j.alarmNotify
      ? { subscriptions: [], topic_name: j.alarmNotify.topic_urn ?? j.alarmNotify.webhook_url ?? '', delay_time: j.alarmNotify.delay_time ?? 0, rto_delay: j.alarmNotify.rto_delay ?? 0, rpo_delay: j.alarmNotify.rpo_delay ?? 0, alarm_to_user: j.alarmNotify.alarm_to_user ?? false }
      : undefined,
    incre_start_position: positionText(j.run?.startPosition),
    is_multi_az: false,
    az_name: '',
    master_az: (echo.master_az as string | undefined) ?? '',
    slave_az: (echo.slave_az as string | undefined) ?? '',
    node_role: 'single',
    ...(po ? { period_order: { status: 'COMPLETED', order_id: '', charging_mode: 0, period_type: po.period_type, period_num: po.period_num, is_auto_renew: po.is_auto_renew ?? 0 } } : {}),
    object_infos: objectInfosV3(j.dbObject),
    data_transformation: dataTransformationV3(j.dbObject),
    tags: j.tags,
    public_ip_list: (echo.public_ip_list as unknown[] | undefined) ?? [],
    bind_public_ip_state: '',
    children: [],
    is_open_fast_clean: (echo.is_open_fast_clean as boolean | undefined) ?? false,
    job_kernel_direction: j.jobDirection === 'down' ? 'down' : 'up',
  };
}

/** The job list item (JobInfo). */
export function jobListItemV3(j: Job) {
  const a = jobActions(j);
  return {
    id: j.id,
    name: j.name,
    status: j.status,
    create_time: dateTime(j.createTime),
    description: j.description,
    engine_type: j.engineType,
    net_type: j.netType,
    billing_tag: false,
    job_direction: j.jobDirection,
    db_use_type: j.jobType,
    task_type: j.taskType,
    children: [],
    node_newFramework: true,
    error_msg: isFailed(j) ? (j.error?.message ?? '') : '',
    job_action: { available_actions: a.available_actions, unavailable_actions: a.unavailable_actions, current_action: a.current_action === 'PAUSE' ? 'STOP_JOB' : a.current_action },
  };
}

/** batch-progress item (QueryProgressResp; `incr_*` spellings of the seed table too). */
export function progressV3(j: Job, p: JobProgress) {
  const pct = (n: number) => `${n}%`;
  const incremental = j.status === 'INCRE_TRANSFER_STARTED' || j.run?.phase === 'incremental';
  const delay = incremental && p.lagSeconds !== undefined ? String(p.lagSeconds) : '-1';
  const delayMs = incremental && p.lagMillis !== undefined ? String(p.lagMillis) : '-1';
  return {
    job_id: j.id,
    progress: pct(p.percent),
    incre_trans_delay: delay,
    incre_trans_delay_millis: delayMs,
    incr_trans_delay: delay,
    incr_trans_delay_millis: delayMs,
    task_mode: j.taskType,
    transfer_status: j.status,
    process_time: ms(j.run?.fullLoadStartedAt ?? j.run?.startedAt),
    remaining_time: String(p.remainingSeconds),
    progress_map: {
      struct: { completed: pct(p.structPercent), remaining_time: '0' },
      data: { completed: pct(p.dataPercent), remaining_time: String(p.remainingSeconds) },
      index: { completed: pct(p.indexPercent), remaining_time: '0' },
    },
    error_code: '',
    error_msg: '',
  };
}

/** batch-precheck-result item (QueryPreCheckResp). */
export function precheckResultV3(j: Job) {
  const p = j.precheck!;
  const done = p.status !== 'pending';
  const items = p.results;
  const passed = items.filter((r) => r.result !== 'failed' || p.skipped.includes(r.item)).length;
  return {
    precheck_id: j.id,
    result: p.status === 'success' && !!p.passed,
    process: done ? '100%' : '0%',
    total_passed_rate: done && items.length ? `${Math.floor((passed / items.length) * 100)}%` : '0%',
    rds_instance_id: '',
    job_direction: j.jobDirection,
    precheck_result: items.map((r) => ({
      item: r.item,
      result: r.result.toUpperCase(),
      failed_reason: r.failed_reason ?? '',
      data: r.objects?.length ? JSON.stringify(r.objects) : '',
      raw_error_msg: r.advice ?? '',
      group: r.group,
      failed_sub_jobs: [],
      is_support_skip: r.result === 'failed' && SKIPPABLE_ITEMS.has(r.item),
    })),
    error_code: p.status === 'failed' ? 'DRS.M0004' : '',
    error_msg: p.status === 'failed' ? (p.error ?? 'the precheck could not run') : '',
  };
}

export { splitObjectId };
