/**
 * DRS v3 request bodies (seed §5/§6, SDK models "DRS v3 operations") and their translation into
 * the domain's dialect-neutral JobSpec / JobUpdate / DbObjectSelection. v3 endpoints are flat
 * (`ip`, int `db_port`, `db_user`, `db_password`, `ssl_*`); they are stored in the same shape the
 * v5 dialect stores (`extra.endpoint/cloud/vpc`), so a job reads the same through either API.
 * Fields with no effect in this deployment (VPC, subnet, EIP, AZ, billing) are accepted, stored in
 * `echo`/`extra` and returned where the seed returns them; secrets are never stored in clear.
 */
import { z } from 'zod';
import { InvalidParameterError, NotApplicableError } from '../../errors.js';
import type { JobUpdate } from '../../job/commands.js';
import type { AlarmNotify, DbObjectSelection, DbSelection, Job, PolicyConfig, SpeedLimit, TableSelection } from '../../job/job.js';
import type { EndpointSpec, JobSpec } from '../../job/spec.js';
import { Bool, Host, Id, JobName, SafeText } from '../../validation.js';

const Text = SafeText;
const Passthrough = z.record(z.string().max(64), z.unknown()).refine((o) => Object.keys(o).length <= 64, 'must have at most 64 keys');

/** v3 ports are int32; 0 means "not given" (the Terraform provider sends 0 for an unset port). */
export const PortV3 = z
  .number()
  .int()
  .min(0)
  .max(65535, 'must be a number from 1 to 65535')
  .transform((v) => (v === 0 ? undefined : v));

export const JobIds = z.array(Id).min(1, 'give at least one job id').max(100, 'at most 100 job ids per call');
export const PageReq = z.object({ cur_page: z.number().int().min(0).max(1_000_000).optional(), per_page: z.number().int().min(0).max(100).optional() }).strict();
export const JobIdsBody = z.object({ jobs: JobIds }).strict();
export const JobIdsPagedBody = z.object({ jobs: JobIds, page_req: PageReq.optional() }).strict();

export const ResourceTagV3 = z.object({ key: Text(128).min(1), value: Text(255) }).strict();
const Description = z.string().max(256, 'must be at most 256 characters').regex(/^[^!<>&'"\\]*$/, 'must not contain !<>&\'"\\');

const KafkaSecurity = z.record(z.string().max(64), z.unknown());

/** The v3 Endpoint model (SDK `Endpoint`, catalogue 6.1.1). */
export const EndpointV3 = z
  .object({
    db_type: z.string().max(32).optional(),
    az_code: Text(64).optional(),
    region: Text(64).optional(),
    inst_id: Text(128).optional(),
    vpc_id: Text(64).optional(),
    subnet_id: Text(64).optional(),
    security_group_id: Text(64).optional(),
    project_id: Text(64).optional(),
    db_name: Text(128).regex(/^[^!<>&'"\\]*$/, 'must not contain !<>&\'"\\').optional(),
    db_password: z.string().max(1024).optional(),
    db_port: PortV3.optional(),
    db_user: Text(128).optional(),
    inst_name: Text(128).optional(),
    ip: z.union([Host, z.literal('')]).optional(),
    mongo_ha_mode: Text(32).optional(),
    safe_mode: z.number().int().min(0).max(1).optional(),
    ssl_cert_password: z.string().max(1024).optional(),
    ssl_cert_check_sum: Text(128).optional(),
    ssl_cert_checksum: Text(128).optional(),
    ssl_cert_key: z.string().max(65_536).regex(/^[A-Za-z0-9+/=\r\n]*$/, 'must be base64').optional(),
    ssl_cert_name: Text(255).optional(),
    ssl_link: Bool.optional(),
    topic: Text(255).optional(),
    cluster_mode: Text(32).optional(),
    kafka_security_config: KafkaSecurity.optional(),
  })
  .strict();
export type EndpointV3 = z.infer<typeof EndpointV3>;

const PeriodOrder = z.object({ period_type: z.coerce.number().int().min(2).max(3), period_num: z.number().int().min(1).max(9), is_auto_renew: z.coerce.number().int().min(0).max(1).optional() }).strict();
const PublicIp = z.object({ id: Text(64), public_ip: Text(64), type: z.enum(['master', 'slave']).optional() }).strict();

/** Node sizes this deployment offers: each is a degree of parallelism (lib/steps/context.ts). */
export const NODE_TYPES = ['micro', 'small', 'medium', 'high', 'xlarge'] as const;
const NodeTypeV3 = z.string().max(16).refine((v) => (NODE_TYPES as readonly string[]).includes(v), { message: `must be one of ${NODE_TYPES.join(', ')} (the sizes this deployment offers)` });

export const ExpiredDays = z
  .union([z.string().regex(/^\d{1,3}$/, 'must be a number of days from 14 to 100'), z.number().int()])
  .transform(Number)
  .refine((n) => n >= 14 && n <= 100, 'must be a number of days from 14 to 100')
  .transform(String);

/** One `jobs[]` item of batch-creation (SDK CreateJobReq). */
export const CreateJobV3 = z
  .object({
    name: JobName,
    db_use_type: z.enum(['migration', 'sync', 'cloudDataGuard']),
    engine_type: Text(64),
    job_direction: z.enum(['up', 'down', 'non-dbs']),
    bind_eip: Bool.optional(),
    is_target_readonly: Bool.optional(),
    is_target_read_only: Bool.optional(),
    net_type: z.enum(['vpn', 'vpc', 'eip']),
    node_type: NodeTypeV3.optional(),
    node_num: z.number().int().min(0).max(32).optional(),
    source_endpoint: EndpointV3,
    target_endpoint: EndpointV3,
    tags: z.array(ResourceTagV3).max(20).optional(),
    task_type: z.enum(['FULL_TRANS', 'FULL_INCR_TRANS', 'INCR_TRANS']).optional(),
    customize_sutnet_id: Text(64).optional(),
    customize_subnet_id: Text(64).optional(),
    product_id: Text(64).optional(),
    sys_tags: z.array(ResourceTagV3).max(1).optional(),
    expired_days: ExpiredDays.optional(),
    master_az: Text(64).optional(),
    slave_az: Text(64).optional(),
    charging_mode: z.enum(['period', 'on_demand']).optional(),
    period_order: PeriodOrder.optional(),
    public_ip_list: z.array(PublicIp).max(4).optional(),
    is_open_fast_clean: Bool.optional(),
    description: Description.optional(),
    multi_write: Bool.optional(),
  })
  .strict()
  .superRefine((j, ctx) => {
    if (j.multi_write) ctx.addIssue({ code: 'custom', path: ['multi_write'], message: 'dual-active (multi-write) disaster recovery is not supported by this deployment; use single-primary DR' });
    if (j.charging_mode === 'period' && !j.period_order) ctx.addIssue({ code: 'custom', path: ['period_order'], message: 'is required when charging_mode is period' });
    for (const [i, t] of (j.sys_tags ?? []).entries()) {
      if (t.key !== '_sys_enterprise_project_id') ctx.addIssue({ code: 'custom', path: ['sys_tags', i, 'key'], message: 'must be _sys_enterprise_project_id' });
    }
  });
export type CreateJobV3 = z.infer<typeof CreateJobV3>;

/** One `jobs[]` item of batch-connection (SDK TestEndPoint): one endpoint of one job. */
export const TestEndpointV3 = z
  .object({
    id: Id,
    net_type: z.enum(['vpn', 'vpc', 'eip']).optional(),
    db_type: z.string().max(32),
    ip: Host,
    db_port: PortV3.optional(),
    inst_id: Text(128).optional(),
    db_user: Text(128).optional(),
    db_password: z.string().max(1024).optional(),
    ssl_link: Bool.optional(),
    ssl_cert_key: z.string().max(65_536).regex(/^[A-Za-z0-9+/=\r\n]*$/, 'must be base64').optional(),
    ssl_cert_name: Text(255).optional(),
    ssl_cert_check_sum: Text(128).optional(),
    ssl_cert_password: z.string().max(1024).optional(),
    vpc_id: Text(64).optional(),
    subnet_id: Text(64).optional(),
    end_point_type: z.enum(['so', 'ta']).default('so'),
    region: Text(64).optional(),
    project_id: Text(64).optional(),
    db_name: Text(128).optional(),
    kafka_security_config: KafkaSecurity.optional(),
    customized_dns: z.object({ is_set_dns: Bool, set_dns_action: z.enum(['add', 'keep', 'update', 'recover']), dns_ip: Text(64) }).strict().optional(),
  })
  .strict();
export type TestEndpointV3 = z.infer<typeof TestEndpointV3>;

/**
 * One endpoint of the cluster-mode test (`property`, a JSON array string). The seed's keys are
 * `dbtype`, `dbport`, `ssllink`, `endpointtype`, `dbuser`, `dbpassword`, `dbName`...; the snake_case
 * spellings of the v3 Endpoint model are accepted too. `ip` may carry the port (`host:port`).
 */
const ClusterEndpoint = z
  .object({
    dbtype: z.string().max(32).optional(),
    db_type: z.string().max(32).optional(),
    dbport: z.union([z.number().int(), z.string().regex(/^\d{1,5}$/)]).optional(),
    db_port: z.union([z.number().int(), z.string().regex(/^\d{1,5}$/)]).optional(),
    ssllink: Bool.optional(),
    ssl_link: Bool.optional(),
    nettype: z.string().max(8).optional(),
    net_type: z.string().max(8).optional(),
    endpointtype: z.enum(['so', 'ta', 'ls']).optional(),
    end_point_type: z.enum(['so', 'ta', 'ls']).optional(),
    ip: z.string().min(1).max(300),
    dbName: Text(128).optional(),
    db_name: Text(128).optional(),
    dbuser: Text(128).optional(),
    db_user: Text(128).optional(),
    dbpassword: z.string().max(1024).optional(),
    db_password: z.string().max(1024).optional(),
    sslcertkey: z.string().max(65_536).optional(),
    ssl_cert_key: z.string().max(65_536).optional(),
    sslcertname: Text(255).optional(),
    ssl_cert_name: Text(255).optional(),
    sslcertchecksum: Text(128).optional(),
    ssl_cert_check_sum: Text(128).optional(),
  })
  .passthrough();

export const ClusterTestV3 = z
  .object({
    action: z.literal('testConnection'),
    job_id: Id,
    property: z.string().max(200_000).transform((s, ctx) => {
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON-encoded array of endpoints' });
        return z.NEVER;
      }
      const r = z.array(ClusterEndpoint).min(1).max(8).safeParse(Array.isArray(v) ? v : [v]);
      if (!r.success) {
        const issue = r.error.issues[0];
        ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || 'endpoint'}: ${issue.message}` });
        return z.NEVER;
      }
      return r.data;
    }),
  })
  .strict();
export type ClusterTestV3 = z.infer<typeof ClusterTestV3>;

const Subscription = z.object({ endpoints: z.array(Text(128)).max(10).optional(), protocol: z.enum(['sms', 'email']).optional() }).strict();

export const AlarmNotifyV3 = z
  .object({
    delay_time: z.number().int().min(0).max(3600).optional(),
    rto_delay: z.number().int().min(0).max(3600).optional(),
    rpo_delay: z.number().int().min(0).max(3600).optional(),
    alarm_to_user: Bool.optional(),
    subscriptions: z.array(Subscription).max(2).optional(),
    topic_urn: Text(512).optional(),
  })
  .strict();

/** One `jobs[]` item of batch-modification (SDK ModifyJobReq). */
export const ModifyJobV3 = z
  .object({
    job_id: Id,
    description: Description.optional(),
    name: z.union([JobName, z.literal('')]).optional(),
    alarm_notify: AlarmNotifyV3.optional(),
    task_type: z.enum(['FULL_TRANS', 'INCR_TRANS', 'FULL_INCR_TRANS']).optional(),
    source_endpoint: EndpointV3.optional(),
    target_endpoint: EndpointV3.optional(),
    node_type: z.string().max(16).optional(),
    engine_type: Text(64).optional(),
    net_type: z.enum(['vpc', 'vpn', 'eip']).optional(),
    store_db_info: Bool.optional(),
    is_recreate: Bool.optional(),
    job_direction: z.enum(['up', 'down', 'non-dbs']).optional(),
    is_target_readonly: Bool.optional(),
    is_target_read_only: Bool.optional(),
    replace_definer: Bool.optional(),
    tags: z.array(ResourceTagV3).max(20).optional(),
    db_use_type: z.enum(['migration', 'sync', 'cloudDataGuard']).optional(),
    product_id: Text(64).optional(),
  })
  .strict();
export type ModifyJobV3 = z.infer<typeof ModifyJobV3>;

/** One selected object of batch-select-objects (SDK DatabaseInfo). */
export const DatabaseInfoV3 = z
  .object({
    id: Text(512).optional(),
    parent_id: Text(256).optional(),
    object_type: z.enum(['database', 'table', 'schema', 'view']),
    object_name: Text(128).optional(),
    object_alias_name: Text(128).optional(),
    select: z.union([z.enum(['true', 'false', 'partial']), z.boolean().transform((b) => (b ? 'true' : 'false'))]).optional(),
  })
  .strict();
export type DatabaseInfoV3 = z.infer<typeof DatabaseInfoV3>;

export const SelectObjectsV3 = z
  .object({
    job_id: Id,
    selected: Bool.optional(),
    sync_database: Bool.optional(),
    sync_databases: Bool.optional(),
    job: z.array(DatabaseInfoV3).max(10_000).optional(),
  })
  .strict()
  .superRefine((j, ctx) => {
    if (j.selected && !j.job?.length) ctx.addIssue({ code: 'custom', path: ['job'], message: 'is required when selected is true' });
  });
export type SelectObjectsV3 = z.infer<typeof SelectObjectsV3>;

export const SpeedLimitV3 = z
  .object({
    begin: z.string().max(5),
    end: z.string().max(5),
    speed: z.union([z.string().regex(/^\d{1,4}$/, 'must be 1 to 9999 (MB/s)'), z.number().int()]).transform(Number),
    is_utc: Bool.optional(),
  })
  .strict()
  .refine((l) => l.is_utc !== false, { message: 'speed-limit windows are UTC (is_utc must be true or absent)', path: ['is_utc'] });

export const LimitSpeedV3 = z.object({ job_id: Id, speed_limit: z.array(SpeedLimitV3).max(16) }).strict();

/** MySQL `file:position` or a PostgreSQL LSN; parsed by the domain (lib/job/positions.ts). */
const FileAndPosition = z.string().max(100);

export const SyncPolicyV3 = z
  .object({
    job_id: Id,
    conflict_policy: z.enum(['ignore', 'overwrite', 'stop']).optional(),
    filter_ddl_policy: z.enum(['drop_database', '']).optional(),
    ddl_trans: Bool.optional(),
    index_trans: Bool.optional(),
    topic_policy: Text(8).optional(),
    topic: Text(255).optional(),
    partition_policy: Text(8).optional(),
    kafka_data_format: Text(16).optional(),
    topic_name_format: Text(255).optional(),
    partitions_num: Text(16).optional(),
    replication_factor: Text(16).optional(),
    is_fill_materialized_view: Bool.optional(),
    export_snapshot: Bool.optional(),
    slot_name: Text(64).optional(),
    file_and_position: FileAndPosition.optional(),
    gtid_set: z.string().max(2048).regex(/^[^<>&"'/\\\u4e00-\u9fff]*$/, 'must not contain <>&"\'/\\ or Chinese characters').optional(),
    ddl_topic: Text(255).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const k of ['topic_policy', 'topic', 'partition_policy', 'kafka_data_format', 'topic_name_format', 'partitions_num', 'replication_factor', 'ddl_topic'] as const) {
      if (p[k] !== undefined && p[k] !== '') ctx.addIssue({ code: 'custom', path: [k], message: 'Kafka delivery settings do not apply: this deployment replicates only into MySQL and PostgreSQL targets' });
    }
    if (p.slot_name !== undefined && p.slot_name !== '') ctx.addIssue({ code: 'custom', path: ['slot_name'], message: 'replication slots are named after the job id by this deployment and cannot be chosen' });
  });
export type SyncPolicyV3 = z.infer<typeof SyncPolicyV3>;

const TransformationInfo = z
  .object({
    transformation_type: z.enum(['contentConditionalFilter', 'configConditionalFilter']),
    value: z.string().min(1).max(256),
  })
  .strict()
  .refine((t) => t.transformation_type === 'contentConditionalFilter', {
    message: 'configConditionalFilter (filtering by a cached lookup table) is not supported by this deployment; use contentConditionalFilter with a SQL condition',
    path: ['transformation_type'],
  });

const ConfigTransformation = z
  .object({
    db_table_name: Text(256).optional(),
    db_name: Text(256).optional(),
    table_name: Text(256).optional(),
    col_names: Text(256).optional(),
    prim_key_or_index: Text(256).optional(),
    indexs: Text(256).optional(),
    indexes: Text(256).optional(),
    values: Text(256).optional(),
  })
  .strict();

export const TransformationV3 = z
  .object({
    job_id: Id,
    object_info: z.array(z.object({ id: Text(512), select: z.union([z.string().max(8), z.boolean()]).optional() }).strict()).min(1, 'name the tables the rule applies to').max(10_000),
    transformation_info: TransformationInfo,
    config_transformation: ConfigTransformation.optional(),
  })
  .strict();
export type TransformationV3 = z.infer<typeof TransformationV3>;

// --- translation --------------------------------------------------------------------------

/** A v3 endpoint → EndpointSpec, with the cloud placement kept where v5 keeps it. */
export function endpointSpecV3(e: Partial<EndpointV3>): EndpointSpec {
  const ssl = e.ssl_link
    ? { enabled: true, ca: e.ssl_cert_key ? Buffer.from(e.ssl_cert_key, 'base64').toString('utf8') : undefined, certName: e.ssl_cert_name, checkSum: e.ssl_cert_check_sum ?? e.ssl_cert_checksum, verify: !!e.ssl_cert_key }
    : undefined;
  const endpoint = Object.fromEntries(Object.entries({ instance_id: e.inst_id, instance_name: e.inst_name }).filter(([, v]) => v !== undefined));
  const cloud = Object.fromEntries(Object.entries({ region: e.region, project_id: e.project_id, az_code: e.az_code }).filter(([, v]) => v !== undefined));
  const vpc = Object.fromEntries(Object.entries({ vpc_id: e.vpc_id, subnet_id: e.subnet_id, security_group_id: e.security_group_id }).filter(([, v]) => v !== undefined));
  const v3 = Object.fromEntries(Object.entries({ mongo_ha_mode: e.mongo_ha_mode, safe_mode: e.safe_mode, topic: e.topic, cluster_mode: e.cluster_mode }).filter(([, v]) => v !== undefined));
  return {
    dbType: e.db_type ?? '',
    host: e.ip === '' ? undefined : e.ip,
    port: e.db_port,
    user: e.db_user,
    password: e.db_password,
    dbName: e.db_name,
    ssl,
    extra: {
      endpoint_type: e.inst_id ? 'cloud' : 'offline',
      ...(Object.keys(endpoint).length ? { endpoint } : {}),
      ...(Object.keys(cloud).length ? { cloud } : {}),
      ...(Object.keys(vpc).length ? { vpc } : {}),
      ...(Object.keys(v3).length ? { v3 } : {}),
    },
  };
}

export function jobSpecFromV3(j: CreateJobV3): JobSpec {
  const enterprise = j.sys_tags?.find((t) => t.key === '_sys_enterprise_project_id')?.value;
  const echo = Object.fromEntries(
    Object.entries({
      customize_subnet_id: j.customize_sutnet_id ?? j.customize_subnet_id,
      product_id: j.product_id,
      bind_eip: j.bind_eip,
      node_num: j.node_num,
      master_az: j.master_az,
      slave_az: j.slave_az,
      period_order: j.period_order,
      public_ip_list: j.public_ip_list,
      is_open_fast_clean: j.is_open_fast_clean,
      sys_tags: j.sys_tags,
    }).filter(([, v]) => v !== undefined),
  );
  return {
    name: j.name,
    description: j.description,
    jobType: j.db_use_type,
    engineType: j.engine_type,
    taskType: j.task_type ?? 'FULL_INCR_TRANS',
    jobDirection: j.job_direction,
    netType: j.net_type,
    nodeType: (j.node_type ?? 'high') as JobSpec['nodeType'],
    multiWrite: j.multi_write ?? false,
    isTargetReadonly: j.is_target_readonly ?? j.is_target_read_only,
    chargingMode: j.charging_mode,
    enterpriseProjectId: enterprise && enterprise !== 'default' ? enterprise : undefined,
    expiredDays: j.expired_days,
    tags: j.tags,
    source: endpointSpecV3(j.source_endpoint),
    target: endpointSpecV3(j.target_endpoint),
    echo,
  };
}

/** A field batch-modification cannot change here: refused unless it repeats the current value. */
function unchanged<T>(field: string, given: T | undefined, current: T, why: string): void {
  if (given !== undefined && given !== current) throw new InvalidParameterError(field, `cannot be changed from ${String(current)} to ${String(given)}: ${why}`);
}

export function alarmNotifyV3(a: z.infer<typeof AlarmNotifyV3>): AlarmNotify {
  if (a.subscriptions?.some((s) => s.endpoints?.length)) {
    throw new NotApplicableError('alarm_notify.subscriptions', 'this deployment sends no SMS or e-mail; give topic_urn as an https:// webhook URL (or an SMN topic URN, delivered as a job log line)');
  }
  const webhook = a.topic_urn && /^https?:\/\//i.test(a.topic_urn) ? a.topic_urn : undefined;
  if (webhook) {
    try {
      new URL(webhook);
    } catch {
      throw new InvalidParameterError('alarm_notify.topic_urn', 'is not a valid URL');
    }
  }
  return {
    alarm_to_user: a.alarm_to_user ?? true,
    topic_urn: a.topic_urn,
    webhook_url: webhook,
    delay_time: a.delay_time || undefined,
    rpo_delay: a.rpo_delay || undefined,
    rto_delay: a.rto_delay || undefined,
  };
}

/** A batch-modification item → the domain updates, checked against the job as it is now. */
export function updatesFromV3(m: ModifyJobV3, job: Job): JobUpdate[] {
  const fixed = 'set at creation in this deployment; create a new job to change it';
  unchanged('engine_type', m.engine_type, job.engineType, fixed);
  unchanged('db_use_type', m.db_use_type, job.jobType, fixed);
  unchanged('task_type', m.task_type, job.taskType, fixed);
  unchanged('node_type', m.node_type, job.nodeType, fixed);
  unchanged('net_type', m.net_type, job.netType, fixed);
  unchanged('job_direction', m.job_direction, job.jobDirection, 'the direction changes only through a DR switchover (batch-switchover)');
  unchanged('is_target_readonly', m.is_target_readonly ?? m.is_target_read_only, job.isTargetReadonly, fixed);
  if (m.tags && JSON.stringify(m.tags) !== JSON.stringify(job.tags)) throw new InvalidParameterError('tags', `cannot be changed here: ${fixed}`);
  if (m.is_recreate) throw new NotApplicableError('is_recreate', 'there is no replication instance to rebuild');
  const updates: JobUpdate[] = [];
  if (m.name && m.name !== job.name) updates.push({ type: 'name', name: m.name });
  if (m.description !== undefined && m.description !== job.description) updates.push({ type: 'description', description: m.description });
  if (m.alarm_notify) updates.push({ type: 'notify', alarmNotify: alarmNotifyV3(m.alarm_notify) });
  if (m.source_endpoint || m.target_endpoint) {
    if (m.store_db_info === false) throw new InvalidParameterError('store_db_info', 'must be true to save source_endpoint / target_endpoint');
    updates.push({ type: 'endpoint', source: m.source_endpoint ? endpointSpecV3(m.source_endpoint) : undefined, target: m.target_endpoint ? endpointSpecV3(m.target_endpoint) : undefined });
  }
  if (m.replace_definer !== undefined && m.replace_definer !== (job.policy.replace_definer ?? true)) updates.push({ type: 'policy', policy: { replace_definer: m.replace_definer } });
  if (m.product_id !== undefined && m.product_id !== job.echo.product_id) updates.push({ type: 'echo', key: 'product_id', value: m.product_id });
  return updates;
}

export function speedLimitsV3(l: z.infer<typeof SpeedLimitV3>[]): SpeedLimit[] {
  return l.map((x) => ({ begin: x.begin, end: x.end, speed: x.speed }));
}

/**
 * batch-select-objects → the DatabaseObject tree the domain stores. `selected: false` = every
 * object. Databases with select "true" are copied whole; "partial" (or tables listed under them)
 * only the listed tables; "false" not at all. Tables name their database in `parent_id`
 * (PostgreSQL: `db.schema`); `object_alias_name` is the target name.
 */
export function dbObjectFromV3(s: SelectObjectsV3, kind: 'mysql' | 'postgresql'): DbObjectSelection {
  if (!s.selected) return { object_scope: 'all' };
  const info: Record<string, DbSelection> = {};
  const items = s.job ?? [];
  const db = (name: string) => (info[name] ??= { name });
  let tablesListed = false;
  for (const [i, o] of items.entries()) {
    const field = `job[${i}]`;
    if (o.object_type === 'view') throw new InvalidParameterError(`${field}.object_type`, 'views are not copied by this deployment: select tables (the schema copy creates tables, keys and indexes)');
    if (o.select === 'false') continue;
    if (o.object_type === 'database') {
      const name = o.object_name ?? o.id;
      if (!name) throw new InvalidParameterError(`${field}.object_name`, 'is required for a database');
      const d = db(name);
      if (o.object_alias_name) d.name = o.object_alias_name;
      else d.name = name;
      if (o.select !== 'partial') d.all = true;
      continue;
    }
    if (o.object_type === 'schema') {
      if (kind !== 'postgresql') throw new InvalidParameterError(`${field}.object_type`, 'MySQL databases have no schemas; select databases and tables');
      const [dbName, schema] = splitParent(o.parent_id, o.id, field);
      const name = o.object_name ?? schema;
      if (!dbName || !name) throw new InvalidParameterError(`${field}.parent_id`, 'name the database of the schema in parent_id');
      const d = db(dbName);
      d.schemas ??= {};
      d.schemas[name] = { name: o.object_alias_name ?? name, ...(o.select === 'partial' ? {} : { all: true }) };
      continue;
    }
    // table
    tablesListed = true;
    const table = o.object_name ?? lastPart(o.id);
    if (!table) throw new InvalidParameterError(`${field}.object_name`, 'is required for a table');
    const [dbName, schema] = splitParent(o.parent_id, o.id, field);
    if (!dbName) throw new InvalidParameterError(`${field}.parent_id`, 'name the database of the table in parent_id');
    const ts: TableSelection = { name: o.object_alias_name ?? table, type: 'table', all: true };
    const d = db(dbName);
    if (kind === 'postgresql') {
      const sch = schema ?? 'public';
      d.schemas ??= {};
      const ss = (d.schemas[sch] ??= { name: sch });
      ss.tables = { ...(ss.tables ?? {}), [table]: ts };
    } else {
      if (schema) throw new InvalidParameterError(`${field}.parent_id`, 'MySQL tables belong to a database, not a schema');
      d.tables = { ...(d.tables ?? {}), [table]: ts };
    }
  }
  if (!Object.keys(info).length) throw new InvalidParameterError('job', 'selects no object (every item has select "false")');
  return { object_scope: tablesListed ? 'table' : 'database', object_info: info };
}

/** Object ids look like `db-*-table` / `db-*-*-table` / `db-**-table` (seed examples). */
export function splitObjectId(id: string): string[] {
  return id.split(/-(?:\*+-)+/).filter((p) => p !== '');
}

const lastPart = (id?: string) => (id ? splitObjectId(id).at(-1) : undefined);

function splitParent(parent: string | undefined, id: string | undefined, field: string): [string | undefined, string | undefined] {
  const p = parent ?? (id ? splitObjectId(id).slice(0, -1).join('.') : undefined);
  if (!p) return [undefined, undefined];
  const parts = p.includes('-*') ? splitObjectId(p) : p.split('.');
  if (parts.length > 2) throw new InvalidParameterError(`${field}.parent_id`, 'must be a database (or database.schema)');
  return [parts[0], parts[1]];
}

export function policyFromV3(p: SyncPolicyV3): PolicyConfig {
  const out: PolicyConfig = {};
  if (p.conflict_policy) out.conflict_policy = p.conflict_policy;
  if (p.filter_ddl_policy !== undefined) out.filter_ddl_policy = p.filter_ddl_policy;
  if (p.ddl_trans !== undefined) out.ddl_trans = p.ddl_trans;
  if (p.index_trans !== undefined) out.index_trans = p.index_trans;
  if (p.is_fill_materialized_view !== undefined) out.is_fill_materialized_view = p.is_fill_materialized_view;
  if (p.export_snapshot !== undefined) out.export_snapshot = p.export_snapshot;
  return out;
}

export { Passthrough };
