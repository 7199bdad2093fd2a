import { z } from 'zod';
import { dbObjectV5, endpointSpecV5, policyV5, speedLimitsV5, UpdateJobBodyV5 } from '../../../lib/dialects/v5/schemas.js';
import { InvalidParameterError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob, updateJob, type JobUpdate } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { setUserMigration, type AccountsDeps } from '../../../lib/job/users.js';
import { validateSelection } from '../../../lib/steps/selection.js';
import { sourceAccountsOf } from '../../../lib/steps/users.js';
import { Bool, Id } from '../../../lib/validation.js';

export const UpdateJobRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), body: UpdateJobBodyV5 });

/** `type` says which part of `params` to apply (seed 7.2.3). */
export function updatesFromV5(body: UpdateJobBodyV5, kind: 'mysql' | 'postgresql'): JobUpdate[] {
  const { type, params } = body.job;
  const need = <T>(v: T | undefined, field: string): T => {
    if (v === undefined) throw new InvalidParameterError(`job.params.${field}`, `is required for type ${type}`);
    return v;
  };
  switch (type) {
    case 'name':
      return [{ type: 'name', name: need(params.base_info?.name, 'base_info.name') }];
    case 'description':
      return [{ type: 'description', description: need(params.base_info?.description, 'base_info.description') }];
    case 'expired_days':
      return [{ type: 'expired_days', expiredDays: need(params.base_info?.expired_days, 'base_info.expired_days') }];
    case 'endpoint': {
      const so = params.source_endpoint?.[0];
      const ta = params.target_endpoint?.[0];
      if (!so && !ta) throw new InvalidParameterError('job.params.source_endpoint', 'give source_endpoint or target_endpoint for type endpoint');
      return [{ type: 'endpoint', source: so ? endpointSpecV5(so) : undefined, target: ta ? endpointSpecV5(ta) : undefined }];
    }
    case 'db_object': {
      const sel = dbObjectV5(need(params.db_object, 'db_object'));
      validateSelection(sel, kind);
      return [{ type: 'db_object', dbObject: sel }];
    }
    case 'policy':
      return [{ type: 'policy', policy: policyV5(need(params.policy_config, 'policy_config')) }];
    case 'speed_limit':
      return [{ type: 'speed_limit', speedLimits: speedLimitsV5(params.speed_limit ?? []) }];
    case 'notify':
    case 'alarm_notify':
      return [{ type: 'notify', alarmNotify: need(params.alarm_notify, 'alarm_notify') }];
    case 'node_info':
    case 'period_order':
    case 'tuning_params':
    case 'db_param':
      return [{ type: 'echo', key: type, value: need(params[type], type) }];
    case 'user_migration':
      throw new InvalidParameterError('job.type', 'user_migration is applied by setUserMigration (lib/job/users.ts)');
    case 're_create':
      throw new InvalidParameterError('job.type', 're_create rebuilds a Huawei replication VM; this deployment has none to rebuild');
  }
}

/** UserMigrationInfo (v5): every listed account and role is migrated. */
const UserMigrationV5 = z
  .object({
    is_migrate_user: Bool,
    is_set_password: Bool,
    password: z.string().max(1024).optional(),
    user_list: z.array(z.object({ id: z.string().min(1).max(300), account: z.string().max(300), is_set_password: Bool.optional(), password: z.string().max(1024).optional() }).strict()).max(10_000).optional(),
    role_list: z.array(z.object({ role: z.string().min(1).max(300) }).strict()).max(10_000).optional(),
  })
  .strict();

/** `user_migration`: the same domain command as v3 batch-update-user (checked against the source, passwords encrypted). */
async function setUserMigrationV5(projectId: string, jobId: string, raw: unknown, deps: AccountsDeps) {
  const parsed = UserMigrationV5.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidParameterError(['job.params.user_migration', ...issue.path].join('.'), issue.message);
  }
  const m = parsed.data;
  return setUserMigration(
    projectId,
    jobId,
    {
      migrateUsers: m.is_migrate_user,
      setPassword: m.is_set_password,
      password: m.password,
      users: (m.user_list ?? []).map((u) => ({ id: u.id, account: u.account, selected: true, setPassword: u.is_set_password, password: u.password })),
      roles: (m.role_list ?? []).map((r) => ({ role: r.role, selected: true })),
      fields: { users: 'job.params.user_migration.user_list', roles: 'job.params.user_migration.role_list', password: 'job.params.user_migration.password' },
    },
    deps,
  );
}

export const makeHandler = (deps = (): AccountsDeps => ({ ...jobDeps(), accounts: (cfg) => sourceAccountsOf(cfg) })) =>
  apiHandler(UpdateJobRequest, async ({ path, body }, ctx) => {
    const d = deps();
    if (body.job.type === 'user_migration') {
      const { job } = await setUserMigrationV5(ctx.projectId, path.job_id, body.job.params.user_migration ?? {}, d);
      return { error_code: '', error_msg: '', id: job.id, name: job.name, status: 'success' };
    }
    const current = await getJob(ctx.projectId, path.job_id, d);
    const job = await updateJob(ctx.projectId, path.job_id, updatesFromV5(body, current.source.dbType), d);
    return { error_code: '', error_msg: '', id: job.id, name: job.name, status: 'success' };
  });

export const handler = makeHandler();
