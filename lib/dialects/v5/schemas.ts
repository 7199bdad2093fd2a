/**
 * DRS v5 job request bodies (seed 7.2, 7.6; SDK models) and their translation into the domain's
 * dialect-neutral JobSpec / JobUpdate. Fields with no effect in this deployment (VPC, subnet,
 * EIP, AZ, billing, node placement) are accepted, stored in `echo`, and returned where the seed
 * returns them.
 */
import { z } from 'zod';
import { BaseEndpoint, Cloud, Ssl, Vpc } from '../../connections/connection.js';
import { InvalidParameterError } from '../../errors.js';
import type { DbObjectSelection, PolicyConfig, SpeedLimit } from '../../job/job.js';
import type { EndpointSpec, JobSpec } from '../../job/spec.js';
import { Bool, Description, JobName, SafeText } from '../../validation.js';

const Text = SafeText;

export const Tag = z.object({ key: Text(36).min(1), value: Text(43) }).strict();

/** `start_time`: epoch ms (number or digits) or an ISO timestamp. */
export const StartTime = z
  .union([z.number().int().nonnegative(), z.string().max(40)])
  .transform((v, ctx) => {
    if (v === '') return undefined;
    const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(n) || n < 0) {
      ctx.addIssue({ code: 'custom', message: 'must be an epoch time in milliseconds or an ISO 8601 time' });
      return z.NEVER;
    }
    return n;
  });

export const BaseInfoV5 = z
  .object({
    name: JobName,
    job_type: z.enum(['migration', 'sync', 'cloudDataGuard']),
    multi_write: Bool.optional(),
    engine_type: Text(64),
    job_direction: z.enum(['up', 'down', 'non-dbs']).optional(),
    task_type: z.enum(['FULL_TRANS', 'FULL_INCR_TRANS', 'INCR_TRANS']).optional(),
    net_type: z.enum(['eip', 'vpc', 'vpn']).optional(),
    charging_mode: z.enum(['period', 'on_demand']).optional(),
    enterprise_project_id: Text(64).optional(),
    description: Description.max(256).regex(/^[^!<>&'"\\]*$/, 'must not contain !<>&\'"\\').optional(),
    start_time: StartTime.optional(),
    expired_days: z.union([z.string().regex(/^\d{1,3}$/), z.number().int()]).transform(String).optional(),
    tags: z.array(Tag).max(10).optional(),
    is_open_fast_clean: Bool.optional(),
    product_id: Text(64).optional(),
  })
  .strict();

export const EndpointV5 = z
  .object({
    db_type: z.string().max(32),
    endpoint_type: z.enum(['offline', 'ecs', 'cloud']).optional(),
    endpoint_role: z.enum(['so', 'ta']).optional(),
    endpoint: BaseEndpoint,
    cloud: Cloud.optional(),
    vpc: Vpc.optional(),
    config: z.object({ is_target_readonly: Bool.optional(), node_num: z.number().int().min(0).max(16).optional() }).strict().optional(),
    ssl: Ssl.optional(),
    customized_dns: z.object({ is_set_dns: Bool, set_dns_action: z.enum(['add', 'keep', 'update', 'recover']), dns_ip: Text(15) }).strict().optional(),
  })
  .strict();
export type EndpointV5 = z.infer<typeof EndpointV5>;

/** Free-form objects stored as given (no effect here): bounded in keys as well as bytes. */
const Passthrough = z.record(z.string().max(64), z.unknown()).refine((o) => Object.keys(o).length <= 64, 'must have at most 64 keys');

export const NodeInfoV5 = z
  .object({
    spec: z.object({ node_type: z.enum(['micro', 'small', 'medium', 'high']) }).strict(),
    vpc: Passthrough.optional(),
    base_info: Passthrough.optional(),
  })
  .strict();

export const PeriodOrder = z.object({ period_type: z.number().int().min(2).max(3), period_num: z.number().int().min(1).max(9), is_auto_renew: z.number().int().min(0).max(1).optional() }).strict();
export const PublicIp = z.object({ id: Text(64), public_ip: Text(64), type: z.enum(['master', 'slave']).optional() }).strict();

export const CreateJobBodyV5 = z
  .object({
    job: z
      .object({
        base_info: BaseInfoV5,
        source_endpoint: z.array(EndpointV5).min(1).max(8),
        target_endpoint: z.array(EndpointV5).min(1).max(8),
        period_order: PeriodOrder.optional(),
        node_info: NodeInfoV5.optional(),
        public_ip_list: z.array(PublicIp).max(4).optional(),
      })
      .strict(),
  })
  .strict();
export type CreateJobBodyV5 = z.infer<typeof CreateJobBodyV5>;

// --- db_object, policy, speed limit, alarms -----------------------------------------------

const Column = z
  .object({
    sync_type: Text(32).optional(),
    primary_key_for_data_filtering: Text(128).optional(),
    index_for_data_filtering: Text(128).optional(),
    name: Text(128).optional(),
    type: Text(64).optional(),
    primary_key_for_column_filtering: Text(8).optional(),
    filtered: Bool.optional(),
    additional: Bool.optional(),
    operation_type: Text(256).optional(),
    value: Text(512).optional(),
  })
  .strict();
const Table = z
  .object({
    sync_type: Text(32).optional(),
    type: z.enum(['table', 'view', 'procedure']).optional(),
    name: Text(128).optional(),
    all: Bool.optional(),
    db_alias_name: Text(128).optional(),
    schema_alias_name: Text(128).optional(),
    filtered: Bool.optional(),
    filter_conditions: z.array(z.string().max(512)).max(4).optional(),
    config_conditions: z.array(z.string().max(512)).max(4).optional(),
    is_synchronized: Bool.optional(),
    columns: z.record(z.string().max(128), Column).optional(),
  })
  .strict();
const Schema = z.object({ sync_type: Text(32).optional(), name: Text(128).optional(), all: Bool.optional(), tables: z.record(z.string().max(128), Table).optional() }).strict();
const Db = z
  .object({
    sync_type: Text(32).optional(),
    name: Text(128).optional(),
    all: Bool.optional(),
    schemas: z.record(z.string().max(128), Schema).optional(),
    tables: z.record(z.string().max(128), Table).optional(),
    total_table_num: z.number().int().optional(),
    is_synchronized: Bool.optional(),
  })
  .strict();
export const DbObject = z
  .object({
    object_scope: z.enum(['all', 'database', 'table']),
    target_root_db: z.object({ db_name: Text(128).optional(), db_encoding: Text(32).optional() }).strict().optional(),
    object_info: z.record(z.string().max(128), Db).optional(),
  })
  .strict()
  .refine((o) => o.object_scope === 'all' || (o.object_info && Object.keys(o.object_info).length > 0), { message: 'object_info is required unless object_scope is all', path: ['object_info'] });

export const Policy = z
  .object({
    filter_ddl_policy: z.string().max(64).optional(),
    conflict_policy: z.enum(['ignore', 'stop', 'overwrite']).optional(),
    index_trans: Bool.optional(),
    ddl_trans: Bool.optional(),
    data_sync_topology_type: z.enum(['one2one', 'one2many', 'many2one']).optional(),
    support_ddl_info: z.string().max(256).optional(),
    sync_type_policy: z.string().max(128).optional(),
    increment_read_mode: z.enum(['logminer', 'xstream']).optional(),
    dml_types: z.string().regex(/^[iud](,[iud])*$/, 'must be a comma list of i, u, d').optional(),
    is_create_table_with_index: Bool.optional(),
    defer_index_creation: Bool.optional(),
  })
  .strict();

export const SpeedLimitV5 = z.object({ begin: z.string().max(5), end: z.string().max(5), speed: z.union([z.number(), z.string().regex(/^\d{1,4}$/)]).transform(Number) }).strict();

export const AlarmNotifyV5 = z
  .object({
    alarm_to_user: Bool,
    topic_urn: Text(256).optional(),
    delay_time: z.number().int().min(1).max(3600).optional(),
    rpo_delay: z.number().int().min(1).max(3600).optional(),
    rto_delay: z.number().int().min(1).max(3600).optional(),
    webhook_url: z.string().url().max(512).optional(),
  })
  .strict();

export const UpdateJobBodyV5 = z
  .object({
    job: z
      .object({
        type: z.enum(['name', 'description', 'endpoint', 'policy', 're_create', 'expired_days', 'db_object', 'speed_limit', 'tuning_params', 'notify', 'alarm_notify', 'user_migration', 'db_param', 'period_order', 'node_info']),
        params: z
          .object({
            job_id: Text(64).optional(),
            base_info: BaseInfoV5.partial().optional(),
            source_endpoint: z.array(EndpointV5.partial({ endpoint: true }).extend({ endpoint: BaseEndpoint.partial().optional() })).max(8).optional(),
            target_endpoint: z.array(EndpointV5.partial({ endpoint: true }).extend({ endpoint: BaseEndpoint.partial().optional() })).max(8).optional(),
            alarm_notify: AlarmNotifyV5.optional(),
            speed_limit: z.array(SpeedLimitV5).max(16).optional(),
            user_migration: Passthrough.optional(),
            policy_config: Policy.optional(),
            db_object: DbObject.optional(),
            db_param: Passthrough.optional(),
            tuning_params: Passthrough.optional(),
            period_order: PeriodOrder.optional(),
            node_info: NodeInfoV5.partial().optional(),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();
export type UpdateJobBodyV5 = z.infer<typeof UpdateJobBodyV5>;

// --- translation --------------------------------------------------------------------------

type AnyEndpoint = z.infer<typeof EndpointV5> | (Partial<z.infer<typeof EndpointV5>> & { endpoint?: Partial<z.infer<typeof BaseEndpoint>> });

/** One v5 endpoint → EndpointSpec. `endpoint.id` names a saved connection when no ip is given. */
export function endpointSpecV5(e: AnyEndpoint): EndpointSpec {
  const be = e.endpoint ?? {};
  const { ip, db_port, db_user, db_password, db_name, id, ...restEndpoint } = be;
  const connectionId = id && !ip ? id : undefined;
  return {
    dbType: e.db_type ?? '',
    connectionId,
    host: ip,
    port: db_port,
    user: db_user,
    password: db_password,
    dbName: db_name,
    ssl: e.ssl?.ssl_link
      ? { enabled: true, ca: e.ssl.ssl_cert_key ? Buffer.from(e.ssl.ssl_cert_key, 'base64').toString('utf8') : undefined, certName: e.ssl.ssl_cert_name, checkSum: e.ssl.ssl_cert_check_sum, verify: !!e.ssl.ssl_cert_key }
      : undefined,
    extra: { endpoint_type: e.endpoint_type, endpoint_role: e.endpoint_role, endpoint: { ...restEndpoint, ...(id && ip ? { id } : {}) }, cloud: e.cloud, vpc: e.vpc, config: e.config, customized_dns: e.customized_dns },
  };
}

export function jobSpecFromV5(body: CreateJobBodyV5): JobSpec {
  const j = body.job;
  if (j.source_endpoint.length > 1 || j.target_endpoint.length > 1) {
    throw new InvalidParameterError('source_endpoint', 'sharded (multi-endpoint) sources and targets are not supported by this deployment: give one source and one target endpoint');
  }
  const b = j.base_info;
  return {
    name: b.name,
    description: b.description,
    jobType: b.job_type,
    engineType: b.engine_type,
    taskType: b.task_type ?? 'FULL_INCR_TRANS',
    jobDirection: b.job_direction,
    netType: b.net_type,
    nodeType: j.node_info?.spec.node_type,
    multiWrite: b.multi_write,
    isTargetReadonly: j.target_endpoint[0].config?.is_target_readonly,
    chargingMode: b.charging_mode,
    enterpriseProjectId: b.enterprise_project_id,
    expiredDays: b.expired_days,
    tags: b.tags,
    startTime: b.start_time,
    source: endpointSpecV5(j.source_endpoint[0]),
    target: endpointSpecV5(j.target_endpoint[0]),
    echo: { node_info: j.node_info, period_order: j.period_order, public_ip_list: j.public_ip_list, is_open_fast_clean: b.is_open_fast_clean, product_id: b.product_id },
  };
}

export function speedLimitsV5(l: z.infer<typeof SpeedLimitV5>[]): SpeedLimit[] {
  return l.map((x) => ({ begin: x.begin, end: x.end, speed: x.speed }));
}

export function policyV5(p: z.infer<typeof Policy>): PolicyConfig {
  return { ...p };
}

export function dbObjectV5(o: z.infer<typeof DbObject>): DbObjectSelection {
  return o as DbObjectSelection;
}
