/**
 * Jobs rendered in the DRS v5 shapes (SDK models JobListResp, JobDetailResp): strings where the
 * SDK declares strings (progress, delays, counts, expired_days), ISO times, never a password.
 */
import { jobActions } from '../../job/actions.js';
import type { Job, JobEndpoint } from '../../job/job.js';
import type { JobProgress } from '../../job/progress.js';
import { SKIPPABLE_ITEMS } from '../../job/commands.js';
import type { LogLine } from '../../store/job-store.js';

export const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

export function endpointV5(e: JobEndpoint, role: 'so' | 'ta') {
  const extra = e.extra as { endpoint_type?: string; endpoint?: Record<string, unknown>; cloud?: unknown; vpc?: unknown; config?: unknown; customized_dns?: unknown };
  return {
    db_type: e.dbType,
    endpoint_type: extra.endpoint_type ?? 'offline',
    endpoint_role: role,
    endpoint: {
      ...(extra.endpoint ?? {}),
      ...(e.connectionId ? { id: e.connectionId } : {}),
      endpoint_name: (extra.endpoint?.endpoint_name as string | undefined) ?? e.dbType,
      ip: e.host ?? '',
      db_port: e.port === undefined ? '' : String(e.port),
      db_user: e.user ?? '',
      db_name: e.dbName,
    },
    cloud: extra.cloud,
    vpc: extra.vpc,
    config: extra.config,
    ssl: e.ssl ? { ssl_link: e.ssl.enabled, ssl_cert_name: e.ssl.certName, ssl_cert_check_sum: e.ssl.checkSum } : { ssl_link: false },
    customized_dns: extra.customized_dns,
  };
}

export function baseInfoV5(j: Job) {
  return {
    name: j.name,
    job_type: j.jobType,
    multi_write: j.multiWrite,
    engine_type: j.engineType,
    job_direction: j.jobDirection,
    task_type: j.taskType,
    net_type: j.netType,
    charging_mode: j.chargingMode,
    enterprise_project_id: j.enterpriseProjectId,
    description: j.description,
    start_time: j.startTime === undefined ? undefined : iso(j.startTime),
    expired_days: j.expiredDays,
    tags: j.tags,
    is_open_fast_clean: (j.echo.is_open_fast_clean as boolean | undefined) ?? false,
  };
}

export function jobListItemV5(j: Job) {
  return {
    id: j.id,
    name: j.name,
    status: j.status,
    description: j.description,
    create_time: iso(j.createTime),
    engine_type: j.engineType,
    net_type: j.netType,
    charging_mode: j.chargingMode,
    billing_tag: false,
    job_direction: j.jobDirection,
    job_type: j.jobType,
    task_type: j.taskType,
    enterprise_project_id: j.enterpriseProjectId,
    job_mode: 'single',
    job_mode_role: 'parent',
    is_multi_az: false,
    node_role: 'single',
    node_new_framework: true,
    job_action: jobActions(j),
    children: [],
  };
}

/** `type=detail`: the configuration echo. */
export function jobDetailV5(j: Job) {
  return {
    id: j.id,
    status: j.status,
    create_time: iso(j.createTime),
    base_info: baseInfoV5(j),
    source_endpoint: [endpointV5(j.source, 'so')],
    target_endpoint: [endpointV5(j.target, 'ta')],
    alarm_notify: j.alarmNotify,
    speed_limit: j.speedLimits.map((l) => ({ begin: l.begin, end: l.end, speed: String(l.speed) })),
    policy_config: j.policy,
    db_object: j.dbObject,
    period_order: j.echo.period_order,
    node_info: j.echo.node_info ?? { spec: { node_type: j.nodeType } },
    public_ip_list: j.echo.public_ip_list,
    task_version: '2.0',
    error_code: j.error?.code,
    error_msg: j.error?.message,
  };
}

export function networkResultsV5(j: Job, queryId: string) {
  const q = j.network?.id === queryId ? j.network : undefined;
  if (!q) return undefined;
  if (q.status !== 'success') return { network_results: [], error_msg: q.error };
  return {
    network_results: (q.result ?? []).map((r) => ({
      ip: r.ip,
      success: r.success,
      result: r.success ? 'success' : 'failed',
      status: r.success ? 'success' : 'failed',
      error_code: r.error_code,
      error_msg: r.error_msg,
    })),
  };
}

export function precheckResultV5(j: Job) {
  const p = j.precheck!;
  const done = p.status !== 'pending';
  const items = p.results;
  const passed = items.filter((r) => r.result !== 'failed' || p.skipped.includes(r.item)).length;
  return {
    result: p.status === 'success' && !!p.passed,
    process: done ? '100%' : '0%',
    total_passed_rate: done && items.length ? `${Math.floor((passed / items.length) * 100)}%` : '0%',
    job_direction: j.jobDirection,
    precheck_results: items.map((r) => ({
      item: r.item,
      result: r.result.toUpperCase(),
      failed_reason: r.failed_reason ?? '',
      data: r.objects?.join(', ') ?? '',
      raw_error_msg: r.advice ?? '',
      group: r.group,
      is_support_skip: r.result === 'failed' && SKIPPABLE_ITEMS.has(r.item),
      is_skipped: p.skipped.includes(r.item),
    })),
    error_msg: p.error,
  };
}

export function progressInfoV5(j: Job, p: JobProgress) {
  const pct = (n: number) => `${n}%`;
  return {
    progress: pct(p.percent),
    incr_trans_delay: p.lagSeconds === undefined ? '0' : String(p.lagSeconds),
    incr_trans_delay_millis: p.lagMillis === undefined ? '0' : String(p.lagMillis),
    task_mode: j.taskType,
    transfer_status: j.status,
    process_time: String(p.elapsedSeconds),
    remaining_time: String(p.remainingSeconds),
    progress_map: {
      struct: { completed: pct(p.structPercent), remaining_time: '0' },
      data: { completed: pct(p.dataPercent), remaining_time: String(p.remainingSeconds) },
      index: { completed: pct(p.indexPercent), remaining_time: '0' },
    },
  };
}

export function migrationObjectProgressV5(j: Job, p: JobProgress) {
  const status = (done: boolean, started: boolean) => (done ? 'COMPLETED' : started ? 'TRANSFERING' : 'NOT_START');
  const run = j.run;
  return {
    migration_object_overview: [
      { type: 'TABLE_STRUCTURE', src_count: String(p.tables.length), dst_count: run?.schemaCopied ? String(p.tables.length) : '0', status: status(!!run?.schemaCopied, !!run), start_time: iso(run?.startedAt), end_time: '' },
      { type: 'TABLE', src_count: String(p.rowsEstimated), dst_count: String(p.rowsDone), status: status(!!run?.fullLoadCompletedAt, !!run?.fullLoadStartedAt), start_time: iso(run?.fullLoadStartedAt), end_time: iso(run?.fullLoadCompletedAt) },
      { type: 'INDEX', src_count: String(p.tables.length), dst_count: run?.indexesCreated ? String(p.tables.length) : '0', status: status(!!run?.indexesCreated, !!run?.fullLoadCompletedAt), start_time: '', end_time: '' },
    ],
    create_time: iso(Date.now()),
    full_start_time: iso(run?.fullLoadStartedAt),
    full_complete_time: iso(run?.fullLoadCompletedAt),
    incr_start_time: iso(run?.incrementalStartedAt),
    end_time: '',
  };
}

export function logsV5(lines: LogLine[]) {
  return lines.map((l) => ({ level: l.level, message: l.message, create_time: iso(l.create_time) }));
}
