/**
 * Migrating the selected accounts and roles (v3 batch-update-user), part of the schema copy:
 * `createUsers` after the tables and before the views and routines (which may name the accounts
 * as definers or owners), `grantUsers` once every object exists (grants name tables, views and
 * routines). Only jobs whose user migration is configured do anything here.
 *
 * Password hashes are read from the source now, kept in memory for this step and never stored;
 * new passwords are decrypted from the job only here. Each account's outcome is recorded (job
 * objects, job log) without any credential; an existing account is left alone and reported; a
 * failure is recorded per account and returned, so the caller fails the step after trying all.
 */
import { openEngine } from '../engines/index.js';
import type { AccountDef, AccountResult, AccountSource, AccountTarget, EndpointConfig, ObjectPlacement, ObjectScope, SourceAccount, SourceEngine, TargetEngine } from '../engines/engine.js';
import type { JobDeps } from '../job/commands.js';
import type { Job } from '../job/job.js';
import { passwordFor, selectedAccounts } from '../job/users.js';
import type { ObjectRecord } from '../store/job-store.js';
import type { Open } from './checks.js';
import { log } from './context.js';

const isAccountSource = (e: SourceEngine): e is SourceEngine & AccountSource => typeof (e as Partial<AccountSource>).readAccounts === 'function';
const isAccountTarget = (e: TargetEngine): e is TargetEngine & AccountTarget => typeof (e as Partial<AccountTarget>).createAccounts === 'function';

export interface UsersOutcome {
  /** Accounts created now: they get their grants after the objects. */
  created: AccountDef[];
  failures: string[];
}

function record(r: AccountResult, at: number, fallbackMessage?: string): ObjectRecord {
  return {
    kind: r.isRole ? 'role' : 'user',
    source: { name: r.id },
    target: { name: r.id },
    status: r.status,
    ...(r.message ?? fallbackMessage ? { message: (r.message ?? fallbackMessage)!.slice(0, 1000) } : {}),
    ...(r.skipped?.length ? { skipped: r.skipped.slice(0, 200) } : {}),
    ...(r.missingParents?.length ? { missingParents: r.missingParents } : {}),
    at,
  };
}

/** Create the selected accounts on the target (roles first). */
export async function createUsers(job: Job, deps: JobDeps, source: SourceEngine, target: TargetEngine, scope: Omit<ObjectScope, 'kinds'>): Promise<UsersOutcome> {
  const ids = selectedAccounts(job);
  if (ids.length === 0) return { created: [], failures: [] };
  if (!isAccountSource(source) || !isAccountTarget(target)) return { created: [], failures: [`user migration is not available for ${job.source.dbType}`] };
  const defs = await source.readAccounts(ids, { ...scope, kinds: [] });
  const found = new Set(defs.map((d) => d.id));
  const passwords = new Map<string, string>();
  for (const d of defs) {
    const cipher = passwordFor(job.userMigration!, d.id);
    if (cipher) passwords.set(d.id, await deps.secrets.decrypt(cipher));
  }
  const results = await target.createAccounts(defs, { passwords });
  passwords.clear();
  const gone: AccountResult[] = ids.filter((id) => !found.has(id)).map((id) => ({ id, isRole: job.userMigration!.roles.includes(id), status: 'failed', message: `${id} no longer exists on the source` }));
  const all = [...results, ...gone];
  const at = Date.now();
  await deps.jobs.putObjects(job, all.map((r) => record(r, at)));
  const count = (s: AccountResult['status']) => all.filter((r) => r.status === s).length;
  await log(deps, job, `step 2/5 accounts: ${count('done')} created, ${count('existing')} already on the target (left as they are), ${count('failed')} failed`);
  const failures = all.filter((r) => r.status === 'failed').map((r) => `${r.isRole ? 'role' : 'account'} ${r.id}: ${r.message ?? 'failed'}`);
  for (const f of failures) await log(deps, job, `account migration failed: ${f}`, 'ERROR');
  const created = new Set(results.filter((r) => r.status === 'done').map((r) => r.id));
  return { created: defs.filter((d) => created.has(d.id)), failures };
}

/** Memberships and privileges of the accounts created now, under the target names. */
export async function grantUsers(job: Job, deps: JobDeps, target: TargetEngine, created: AccountDef[], placement: ObjectPlacement): Promise<string[]> {
  if (created.length === 0 || !isAccountTarget(target)) return [];
  const results = await target.grantAccounts(created, placement);
  const at = Date.now();
  await deps.jobs.putObjects(job, results.map((r) => record(r, at)));
  for (const r of results) {
    if (r.skipped?.length) await log(deps, job, `account ${r.id}: ${r.skipped.length} privileges on objects this job does not migrate were not granted: ${r.skipped.slice(0, 10).join('; ')}${r.skipped.length > 10 ? '; ...' : ''}`, 'WARN');
    if (r.missingParents?.length) await log(deps, job, `account ${r.id}: not made a member of ${r.missingParents.join(', ')} (not on the target; select them too)`, 'WARN');
  }
  const failures = results.filter((r) => r.status === 'failed').map((r) => `${r.isRole ? 'role' : 'account'} ${r.id}: ${r.message ?? 'grants failed'}`);
  for (const f of failures) await log(deps, job, `account migration failed: ${f}`, 'ERROR');
  return failures;
}

/** The source's accounts, read now through the engine (get-src-user, batch-update-user). */
export async function sourceAccountsOf(cfg: EndpointConfig, open: Open = openEngine): Promise<SourceAccount[]> {
  const engine = open({ ...cfg, poolSize: 1 });
  try {
    if (!isAccountSource(engine)) throw new Error(`listing accounts is not available for ${cfg.kind}`);
    return await engine.listAccounts();
  } finally {
    await engine.close().catch(() => undefined);
  }
}
