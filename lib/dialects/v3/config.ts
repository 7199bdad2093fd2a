/**
 * v3 configuration batches (seed 6.1.2–6.1.5, 6.1.8, 6.1.15, 6.1.16, 6.1.22, 6.2.x, 6.3.1,
 * 6.3.2): connection tests, saving endpoints and names, object selection, speed limits,
 * passwords, definers, notifications, users, row filters and the sync policy. Each item is one
 * domain command (updateJob and the lib/job modules built on it), so the status rules and
 * validation are the ones v5 uses.
 */
import { z } from 'zod';
import { InvalidParameterError, NotApplicableError } from '../../errors.js';
import type { Reply } from '../../http/envelope.js';
import { getJob, updateJob, type JobDeps } from '../../job/commands.js';
import { setRowFilter, type FilterTarget } from '../../job/filters.js';
import { resetPassword } from '../../job/passwords.js';
import { setSyncPolicy } from '../../job/sync-policy.js';
import { listSourceAccounts, setUserMigration, type AccountsDeps } from '../../job/users.js';
import type { SourceAccount } from '../../engines/engine.js';
import type { Job } from '../../job/job.js';
import type { NetworkResult } from '../../job/job.js';
import type { EndpointSpec } from '../../job/spec.js';
import { testEndpointNow, type Open } from '../../steps/checks.js';
import { validateSelection } from '../../steps/selection.js';
import { Bool, Id, SafeText } from '../../validation.js';
import { itemError, runBatch } from './batch.js';
import {
  alarmNotifyV3,
  AlarmNotifyV3,
  dbObjectFromV3,
  endpointSpecV3,
  LimitSpeedV3,
  policyFromV3,
  speedLimitsV3,
  splitObjectId,
  updatesFromV3,
  type ClusterTestV3,
  type ModifyJobV3,
  type SelectObjectsV3,
  type SyncPolicyV3,
  type TestEndpointV3,
  type TransformationV3,
} from './schemas.js';

const ok = (id: string) => ({ id, status: 'success', error_code: '', error_msg: '' });
const failed = (id: string, e: Parameters<typeof itemError>[0]) => ({ id, status: 'failed', ...itemError(e) });

/** CheckJobResp: `status` is the string "true"/"false" (SDK), `success` the boolean. */
function checkResult(id: string, r: NetworkResult) {
  return { id, status: r.success ? 'true' : 'false', success: r.success, error_code: r.success ? '' : (r.error_code ?? 'DRS.KE0048'), error_msg: r.success ? '' : (r.error_msg ?? 'Failed to connect to the database.') };
}

/** The connection tests' wiring: the engine registry unless a test passes a fake. */
export type ConnectionDeps = JobDeps & { open?: Open };

/** batch-connection: each item tests ONE endpoint (`end_point_type` so|ta) of the job `id`, now. */
export async function batchConnectionV3(projectId: string, items: TestEndpointV3[], deps: ConnectionDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      const override = endpointSpecV3({ db_type: i.db_type, ip: i.ip, db_port: i.db_port, db_user: i.db_user, db_password: i.db_password, db_name: i.db_name, ssl_link: i.ssl_link, ssl_cert_key: i.ssl_cert_key, ssl_cert_name: i.ssl_cert_name, ssl_cert_check_sum: i.ssl_cert_check_sum });
      const r = await testEndpointNow(projectId, i.id, i.end_point_type === 'ta' ? 'target' : 'source', withoutExtra(override), deps, deps.open);
      return checkResult(i.id, r);
    },
    (i, e) => ({ id: i.id, status: 'false', success: false, ...itemError(e) }),
    { status: 200 },
  );
}

/** Only what the test should change: undefined fields keep the stored value. */
function withoutExtra(e: EndpointSpec): Partial<EndpointSpec> {
  const out: Partial<EndpointSpec> = { dbType: e.dbType };
  for (const k of ['host', 'port', 'user', 'password', 'dbName', 'ssl'] as const) if (e[k] !== undefined) (out as Record<string, unknown>)[k] = e[k];
  return out;
}

/** cluster/batch-connection: `property` lists the endpoints (JSON string); every one must connect. */
export async function batchClusterConnectionV3(projectId: string, items: ClusterTestV3[], deps: ConnectionDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      let last: NetworkResult | undefined;
      for (const p of i.property) {
        const type = p.endpointtype ?? p.end_point_type ?? 'so';
        if (type === 'ls') throw new NotApplicableError('endpointtype ls', 'sharded (cluster) sources are not supported by this deployment');
        const [host, portInIp] = splitHostPort(p.ip);
        // The provider sends dbport 0 and the port inside `ip` (host:port).
        const port = [p.dbport, p.db_port, portInIp].find((v) => v !== undefined && Number(v) !== 0);
        const spec = endpointSpecV3({
          db_type: p.dbtype ?? p.db_type ?? '',
          ip: host,
          db_port: port === undefined || Number(port) === 0 ? undefined : Number(port),
          db_user: p.dbuser ?? p.db_user,
          db_password: p.dbpassword ?? p.db_password,
          db_name: p.dbName ?? p.db_name,
          ssl_link: p.ssllink ?? p.ssl_link,
          ssl_cert_key: p.sslcertkey ?? p.ssl_cert_key,
          ssl_cert_name: p.sslcertname ?? p.ssl_cert_name,
          ssl_cert_check_sum: p.sslcertchecksum ?? p.ssl_cert_check_sum,
        });
        last = await testEndpointNow(projectId, i.job_id, type === 'ta' ? 'target' : 'source', withoutExtra(spec), deps, deps.open);
        if (!last.success) break;
      }
      return checkResult(i.job_id, last!);
    },
    (i, e) => ({ id: i.job_id, status: 'false', success: false, ...itemError(e) }),
    { status: 200 },
  );
}

function splitHostPort(ip: string): [string, string | undefined] {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(ip);
  if (m && !m[1].includes(':')) return [m[1], m[2]];
  if (m && ip.startsWith('[')) return [m[1], m[2]];
  return [ip, undefined];
}

/** batch-modification: names, descriptions, notifications; endpoints (store_db_info) while configuring. */
export async function batchModifyV3(projectId: string, items: ModifyJobV3[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      const job = await getJob(projectId, i.job_id, deps);
      await updateJob(projectId, i.job_id, updatesFromV3(i, job), deps);
      return ok(i.job_id);
    },
    (i, e) => failed(i.job_id, e),
    { status: 200 },
  );
}

/** batch-select-objects: `all_counts`, results with a boolean `status` (SDK DatabaseObjectResp). */
export async function batchSelectObjectsV3(projectId: string, items: SelectObjectsV3[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      const job = await getJob(projectId, i.job_id, deps);
      const sel = dbObjectFromV3(i, job.source.dbType);
      validateSelection(sel, job.source.dbType);
      await updateJob(projectId, i.job_id, [{ type: 'db_object', dbObject: sel }], deps);
      return { job_id: i.job_id, status: true, error_code: '', error_msg: '' };
    },
    (i, e) => ({ job_id: i.job_id, status: false, ...itemError(e) }),
    { status: 202, countKey: 'all_counts' },
  );
}

/** batch-limit-speed (`speed_limits[]`): up to 3 UTC windows, validated and enforced by the domain. */
export async function batchLimitSpeedV3(projectId: string, items: z.infer<typeof LimitSpeedV3>[], deps: JobDeps): Promise<Reply> {
  return runBatch(items, async (i) => ok((await updateJob(projectId, i.job_id, [{ type: 'speed_limit', speedLimits: speedLimitsV3(i.speed_limit) }], deps)).id), (i, e) => failed(i.job_id, e), { status: 200 });
}

export const ModifyPwdItemV3 = z
  .object({
    db_password: z.string().min(1).max(1024),
    end_point_type: z.enum(['so', 'ta']),
    job_id: Id,
    kerberos: z.record(z.string().max(64), z.unknown()).optional(),
  })
  .strict()
  .refine((i) => !i.kerberos || Object.keys(i.kerberos).length === 0, { message: 'Kerberos authentication applies to MRS Kafka endpoints, which this deployment does not have', path: ['kerberos'] });

/** batch-modify-pwd: one endpoint per item; the same job may appear twice (source and target). */
export async function batchModifyPasswordV3(projectId: string, items: z.infer<typeof ModifyPwdItemV3>[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      await resetPassword(projectId, i.job_id, i.end_point_type === 'so' ? 'source' : 'target', i.db_password, deps);
      return { ...ok(i.job_id), end_point_type: i.end_point_type };
    },
    (i, e) => ({ ...failed(i.job_id, e), end_point_type: i.end_point_type }),
    { status: 200 },
  );
}

export const DefinerItemV3 = z.object({ job_id: Id, replace_definer: Bool }).strict();

/**
 * batch-replace-definer: stored with the job's policy (configuration only). The schema copy then
 * creates views, procedures, functions, triggers and events with the target's migration user as
 * definer (true, the default) or with the source's definers (false: the precheck warns about
 * definers that do not exist on the target; migrate them with batch-update-user).
 */
export async function batchReplaceDefinerV3(projectId: string, items: z.infer<typeof DefinerItemV3>[], deps: JobDeps): Promise<Reply> {
  return runBatch(items, async (i) => ok((await updateJob(projectId, i.job_id, [{ type: 'policy', policy: { replace_definer: i.replace_definer } }], deps)).id), (i, e) => failed(i.job_id, e), { status: 200 });
}

export const SetSmnBodyV3 = z
  .object({
    jobs: z.array(z.object({ job_id: Id, status: SafeText(64).optional(), engine_type: SafeText(64).optional() }).strict()).min(1).max(100),
    alarm_notify_info: AlarmNotifyV3,
  })
  .strict();

/** batch-set-smn: one notification setting for every listed job (delivery: lib/job/notify.ts). */
export async function batchSetSmnV3(projectId: string, body: z.infer<typeof SetSmnBodyV3>, deps: JobDeps): Promise<Reply> {
  const alarmNotify = alarmNotifyV3(body.alarm_notify_info);
  return runBatch(body.jobs, async (i) => ok((await updateJob(projectId, i.job_id, [{ type: 'notify', alarmNotify }], deps)).id), (i, e) => failed(i.job_id, e), { status: 200 });
}

/** batch-sync-policy: conflict/DDL/index policy, and an INCR_TRANS job's start position. */
export async function batchSyncPolicyV3(projectId: string, items: SyncPolicyV3[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => ok((await setSyncPolicy(projectId, i.job_id, policyFromV3(i), { fileAndPosition: i.file_and_position || undefined, gtidSet: i.gtid_set || undefined }, deps)).id),
    (i, e) => failed(i.job_id, e),
    { status: 200 },
  );
}

/** batch-transformation: a row filter (SQL condition) on the listed, already selected tables. */
export async function batchTransformationV3(projectId: string, items: TransformationV3[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      const job = await getJob(projectId, i.job_id, deps);
      const targets = i.object_info.map((o, k): FilterTarget => {
        const parts = o.id.includes('-*') ? splitObjectId(o.id).filter((p) => p !== 'conditionFilter') : o.id.split('.');
        if (parts.length < 2 || parts.length > 3) throw new InvalidParameterError(`object_info[${k}].id`, 'name a table as "db-*-table" (PostgreSQL "db-*-schema-*-table") or db.table');
        if (job.source.dbType === 'postgresql') return parts.length === 3 ? { db: parts[0], schema: parts[1], table: parts[2] } : { db: parts[0], schema: 'public', table: parts[1] };
        return { db: parts[0], table: parts[parts.length - 1] };
      });
      await setRowFilter(projectId, i.job_id, targets, i.transformation_info.value, deps);
      return ok(i.job_id);
    },
    (i, e) => failed(i.job_id, e),
    { status: 200 },
  );
}

/** UserAccountVo (SDK): `privileges` is an array there, a string in the seed; both accepted. */
const UserAccountV3 = z
  .object({
    id: z.string().min(1).max(300),
    account: z.string().max(300),
    comment: z.string().max(1024).optional(),
    is_transfer: Bool,
    privileges: z.union([z.string().max(100_000), z.array(z.string().max(10_000)).max(10_000)]).optional(),
    password: z.string().max(1024).optional(),
    is_set_password: Bool.optional(),
    roles: z.array(z.string().max(300)).max(1000),
    selected: Bool,
  })
  .strict();

const UserRoleV3 = z
  .object({
    role: z.string().min(1).max(300),
    comment: z.string().max(1024).optional(),
    is_transfer: Bool,
    privileges: z.union([z.string().max(100_000), z.array(z.string().max(10_000)).max(10_000)]),
    inherits_roles: z.array(z.string().max(300)).max(1000).optional(),
    selected: Bool.optional(),
  })
  .strict();

export const UpdateUserItemV3 = z
  .object({
    job_id: Id,
    password: z.string().max(1024).optional(),
    list: z.array(UserAccountV3).max(10_000).optional(),
    user_roles: z.array(UserRoleV3).max(10_000).optional(),
    is_set_password: Bool,
    is_migrate_user: Bool,
    is_sync_object_privilege: Bool.optional(),
  })
  .strict();

/** QueryUserDetailResp: never a password (`password` is always empty). */
function userDetail(a: SourceAccount, job: Job) {
  const selected = job.userMigration?.migrateUsers === true && job.userMigration.users.some((u) => u.id === a.id);
  return {
    id: a.id,
    account: a.host !== undefined ? `'${a.name.replace(/'/g, "''")}'@'${a.host.replace(/'/g, "''")}'` : a.name,
    comment: a.reason ?? '',
    is_transfer: a.transferable,
    privileges: a.privileges.join('; '),
    password: '',
    roles: a.roles,
    selected,
    no_privileges: '',
    parent_account: a.roles.join(','),
    no_parent_account: '',
  };
}

/** QueryRoleDetailResp. */
function roleDetail(a: SourceAccount, job: Job) {
  return {
    role: a.id,
    comment: a.reason ?? '',
    is_transfer: a.transferable,
    privileges: a.privileges.join('; '),
    inherits_roles: a.roles,
    selected: job.userMigration?.migrateUsers === true && job.userMigration.roles.includes(a.id),
  };
}

/** Accounts log in; roles (MariaDB roles, PostgreSQL NOLOGIN roles) are listed apart. */
function split(accounts: SourceAccount[]) {
  return { users: accounts.filter((a) => !a.isRole), roles: accounts.filter((a) => a.isRole) };
}

/**
 * batch-update-user: which accounts and roles the job migrates (checked against the source now),
 * with the unified or per-account new passwords (stored encrypted, never returned). The job
 * creates them on the target after the tables, with the same password hash unless a new password
 * is set, and grants them their privileges on the migrated objects.
 */
export async function batchUpdateUserV3(projectId: string, items: z.infer<typeof UpdateUserItemV3>[], deps: AccountsDeps): Promise<Reply> {
  return runBatch(
    items,
    async (i) => {
      const { job, accounts } = await setUserMigration(
        projectId,
        i.job_id,
        {
          migrateUsers: i.is_migrate_user,
          setPassword: i.is_set_password,
          password: i.password,
          users: (i.list ?? []).map((u) => ({ id: u.id, account: u.account, selected: u.selected, setPassword: u.is_set_password, password: u.password })),
          roles: (i.user_roles ?? []).map((r) => ({ role: r.role, selected: r.selected ?? false })),
          syncObjectPrivileges: i.is_sync_object_privilege,
        },
        deps,
      );
      const m = job.userMigration!;
      const { users, roles } = split(accounts);
      return {
        job_id: job.id,
        is_success: true,
        message: 'SUCCESS',
        is_global_password: String(!!m.passwordCipher),
        user_list: users.filter((a) => m.users.some((u) => u.id === a.id)).map((a) => userDetail(a, job)),
        roles_list: roles.filter((a) => m.roles.includes(a.id)).map((a) => roleDetail(a, job)),
        error_code: '',
        error_msg: '',
      };
    },
    (i, e) => ({ job_id: i.job_id, is_success: false, message: e.message, ...itemError(e) }),
    { status: 200, countKey: 'all_counts' },
  );
}

/** GET get-src-user: the source's accounts and roles, read from the server now, with the job's selection. */
export async function sourceUsersV3(projectId: string, jobId: string, deps: AccountsDeps) {
  const { job, accounts } = await listSourceAccounts(projectId, jobId, deps);
  const { users, roles } = split(accounts);
  return {
    job_id: job.id,
    is_global_password: String(!!job.userMigration?.passwordCipher),
    message: 'SUCCESS',
    user_list: users.map((u) => userDetail(u, job)),
    roles_list: roles.map((r) => roleDetail(r, job)),
    is_success: true,
  };
}
