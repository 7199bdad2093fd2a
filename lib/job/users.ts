/**
 * Database accounts of a job's source (v3 get-src-user / batch-update-user, v5 user_migration):
 * listing them (read from the source server now) and recording which of them the job migrates.
 *
 * The migration itself runs with the job (lib/steps/users.ts): after the tables, before the views
 * and routines that may need the accounts as definers, then the grants once every object exists.
 * Only the selected accounts and roles are written to the target (DESIGN §5 rule 6).
 *
 * What is stored: the selected ids, and new passwords as ciphertexts. Password hashes are never
 * stored: they are read from the source when the job runs. A selection is checked against the
 * source when it is made: an unknown or system account, or an account whose password hash the
 * source user cannot read and for which no new password is given, is refused with the field named.
 */
import { AppError, InvalidParameterError } from '../errors.js';
import type { EndpointConfig, SourceAccount } from '../engines/engine.js';
import { endpointConfig } from '../steps/context.js';
import { getJob, mutateJob, type JobDeps } from './commands.js';
import type { Job, UserMigration } from './job.js';
import { DatabaseAccessError } from './params.js';
import { InvalidTransitionError } from './transitions.js';

export type AccountsDeps = JobDeps & { accounts: (cfg: EndpointConfig) => Promise<SourceAccount[]> };

export async function listSourceAccounts(projectId: string, id: string, deps: AccountsDeps, job0?: Job): Promise<{ job: Job; accounts: SourceAccount[] }> {
  const job = job0 ?? (await getJob(projectId, id, deps));
  let cfg: EndpointConfig;
  try {
    cfg = await endpointConfig(job, 'source', deps);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new DatabaseAccessError('the source endpoint cannot be used', e);
  }
  let accounts: SourceAccount[];
  try {
    accounts = await deps.accounts(cfg);
  } catch (e) {
    throw new DatabaseAccessError('reading the source accounts failed', e);
  }
  // The accounts this job connects with are not migrated: writing the source's copy of the
  // target's own login over it would change the password or privileges the job writes with.
  const own = new Set([cfg.user]);
  const target = await endpointConfig(job, 'target', deps).catch(() => undefined);
  if (target) own.add(target.user);
  return {
    job,
    accounts: accounts.map((a) => (own.has(a.name) && a.transferable ? { ...a, transferable: false, reason: 'the account this job connects with; it is not migrated so the job keeps working' } : a)),
  };
}

/** What a client asks for (v3 batch-update-user item, v5 user_migration), passwords in clear until stored. */
export interface UserMigrationRequest {
  migrateUsers: boolean;
  /** One new password for every migrated account. */
  setPassword: boolean;
  password?: string;
  users: { id: string; account?: string; selected: boolean; setPassword?: boolean; password?: string }[];
  roles: { role: string; selected: boolean }[];
  syncObjectPrivileges?: boolean;
  /** Field names for error messages (v3 `list`/`user_roles`, v5 `user_list`/`role_list`). */
  fields?: { users: string; roles: string; password: string };
}

/** `'app'@'%'` (as get-src-user prints MySQL accounts) → `app@%`; anything else unchanged. */
export function accountId(s: string): string {
  const m = /^'((?:[^']|'')*)'@'((?:[^']|'')*)'$/.exec(s);
  return m ? `${m[1]!.replace(/''/g, "'")}@${m[2]!.replace(/''/g, "'")}` : s;
}

/** The password a migrated account gets, if any: its own, else the unified one. */
export function passwordFor(m: UserMigration, id: string): string | undefined {
  return m.users.find((u) => u.id === id)?.passwordCipher ?? m.passwordCipher;
}

/**
 * Record the user-migration choice (only while configuring: it is part of what the precheck
 * checks). Migrating users reads the source's accounts to check the selection.
 */
export async function setUserMigration(projectId: string, id: string, req: UserMigrationRequest, deps: AccountsDeps): Promise<{ job: Job; accounts: SourceAccount[] }> {
  const f = req.fields ?? { users: 'list', roles: 'user_roles', password: 'password' };
  const job0 = await getJob(projectId, id, deps);
  if (job0.status !== 'CONFIGURATION') throw new InvalidTransitionError(job0.id, job0.status, 'update user_migration');
  let migration: UserMigration = { migrateUsers: false, users: [], roles: [] };
  let accounts: SourceAccount[] = [];
  if (req.migrateUsers) {
    const users = req.users.map((u, i) => ({ ...u, i })).filter((u) => u.selected);
    const roles = req.roles.map((r, i) => ({ ...r, i })).filter((r) => r.selected);
    if (users.length === 0 && roles.length === 0) throw new InvalidParameterError(f.users, `select at least one account (${f.users}[].selected) or role (${f.roles}[].selected) to migrate, or set is_migrate_user to false`);
    if (req.setPassword && !req.password) throw new InvalidParameterError(f.password, 'is required when is_set_password is true');
    for (const u of users) if (u.setPassword && !u.password) throw new InvalidParameterError(`${f.users}[${u.i}].password`, 'is required when is_set_password is true');
    accounts = (await listSourceAccounts(projectId, id, deps, job0)).accounts;
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const check = (given: string, field: string, withPassword: boolean): string => {
      const a = byId.get(accountId(given));
      if (!a) throw new InvalidParameterError(field, `${JSON.stringify(given.slice(0, 200))} is not an account or role of the source (see get-src-user)`);
      if (!a.transferable) throw new InvalidParameterError(field, `${a.id} cannot be migrated: ${a.reason ?? 'not transferable'}`);
      if (a.canLogin && !a.hashReadable && !withPassword) {
        throw new InvalidParameterError(field, `the source user cannot read the password hash of ${a.id} (MySQL: SELECT on the mysql database; PostgreSQL: pg_authid needs a superuser); give it a new password with is_set_password`);
      }
      return a.id;
    };
    const seen = new Set<string>();
    const picked: UserMigration['users'] = [];
    for (const u of users) {
      const key = check(u.id || u.account || '', `${f.users}[${u.i}].id`, req.setPassword || !!u.setPassword);
      if (seen.has(key)) continue;
      seen.add(key);
      picked.push({ id: key, ...(u.setPassword && u.password ? { passwordCipher: await deps.secrets.encrypt(u.password) } : {}) });
    }
    const pickedRoles: string[] = [];
    for (const r of roles) {
      const key = check(r.role, `${f.roles}[${r.i}].role`, true);
      if (!seen.has(key)) pickedRoles.push(key);
      seen.add(key);
    }
    migration = {
      migrateUsers: true,
      ...(req.setPassword && req.password ? { passwordCipher: await deps.secrets.encrypt(req.password) } : {}),
      users: picked,
      roles: pickedRoles,
      ...(req.syncObjectPrivileges !== undefined ? { syncObjectPrivileges: req.syncObjectPrivileges } : {}),
    };
  } else if (req.syncObjectPrivileges !== undefined) {
    migration.syncObjectPrivileges = req.syncObjectPrivileges;
  }
  const job = await mutateJob(projectId, id, deps, (j) => {
    if (j.status !== 'CONFIGURATION') throw new InvalidTransitionError(j.id, j.status, 'update user_migration');
    j.userMigration = migration;
    // Part of what the precheck checks (definers, accounts): a new precheck is needed.
    j.configVersion += 1;
    return j;
  });
  return { job, accounts };
}

/** The ids the job migrates, roles first (a user may be granted a role). */
export function selectedAccounts(job: Job): string[] {
  const m = job.userMigration;
  if (!m?.migrateUsers) return [];
  return [...m.roles, ...m.users.map((u) => u.id)];
}
