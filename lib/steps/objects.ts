/**
 * Views, stored procedures and functions, triggers and events (MySQL), and the selected
 * accounts: what the schema copy adds after the tables.
 *
 * Scope (DESIGN §5 rule 6): the views, routines and events of the databases (PostgreSQL:
 * schemas) selected as a whole, the triggers of the selected tables (PostgreSQL: with the
 * functions they call), and the accounts the user chose to migrate.
 *
 * When:
 * - schema copy (copySchema): accounts, then functions/procedures and views, then the accounts'
 *   grants (they name those objects);
 * - triggers and events only once no more rows are copied into their tables, so they never fire
 *   on the service's own writes (a trigger fires on every insert the loader or the CDC applier
 *   makes, and the source's trigger effects already arrive as rows): after the full load for a
 *   full migration (finishFullLoad), when the job is ended for a job with incremental sync
 *   (releaseResources), after the last change has been applied.
 *
 * Definers: with replace_definer (the default) every object gets the target's migration user as
 * definer (MySQL DEFINER=CURRENT_USER) or owner (PostgreSQL: the creator); without it the source's
 * definer/owner is kept, which works only if that account exists on the target: the precheck
 * says so (userRequirementsIsEnoughForDefiner).
 *
 * Every object is tried; each outcome is recorded (job objects + log). Failures end the step
 * with ObjectMigrationError listing them all (nothing is silently dropped); a retry creates what
 * is missing and leaves what exists.
 */
import { openEngine } from '../engines/index.js';
import type {
  CheckResult,
  DbObjectDef,
  DbObjectKind,
  DbObjects,
  ObjectPlacement,
  ObjectResult,
  ObjectScope,
  ObjectSource,
  ObjectTarget,
  SourceEngine,
  TableMapping,
  TableRef,
  TargetEngine,
} from '../engines/engine.js';
import type { JobDeps } from '../job/commands.js';
import type { Job } from '../job/job.js';
import { selectedAccounts } from '../job/users.js';
import type { ObjectRecord } from '../store/job-store.js';
import type { Open } from './checks.js';
import { endpointConfig, log } from './context.js';
import { jobObjects } from './selection.js';
import { createUsers, grantUsers } from './users.js';

export class ObjectMigrationError extends Error {
  constructor(readonly failures: string[]) {
    super(`${failures.length} object${failures.length === 1 ? '' : 's'} could not be migrated: ${failures.join('; ')}`.slice(0, 1500));
    this.name = 'ObjectMigrationError';
  }
}

const isObjectSource = (e: SourceEngine): e is SourceEngine & ObjectSource => typeof (e as Partial<ObjectSource>).readObjects === 'function';
const isObjectTarget = (e: TargetEngine): e is TargetEngine & ObjectTarget => typeof (e as Partial<ObjectTarget>).createObjects === 'function';

/** Created with the schema; triggers and events wait until no more rows are copied. */
export const SCHEMA_KINDS: DbObjectKind[] = ['function', 'procedure', 'view'];
export const DEFERRED_KINDS: DbObjectKind[] = ['trigger', 'event'];

const sameTable = (a: TableRef, b: TableRef) => a.db === b.db && (a.schema ?? undefined) === (b.schema ?? undefined) && a.table === b.table;

/**
 * The selection as containers and renames: every selected database (schema), whether it is
 * selected as a whole, and where it goes; and where each selected table goes.
 */
export function objectPlacement(job: Job, objects: DbObjects, mappings: Pick<TableMapping, 'source' | 'target'>[]): { placement: ObjectPlacement; scope: Omit<ObjectScope, 'kinds'> } {
  const sel = job.dbObject;
  const info = sel.object_info ?? {};
  const renames: ObjectPlacement['renames'] = [];
  const name = (given: string | undefined, fallback: string) => (given && given.trim() ? given : fallback);
  for (const db of objects.databases) {
    const d = sel.object_scope === 'all' ? undefined : info[db.name];
    if (sel.object_scope !== 'all' && !d) continue;
    const targetDb = name(d?.name, db.name);
    const wholeDb = sel.object_scope === 'all' || d?.all === true || (!d?.tables && !d?.schemas);
    if (db.schemas) {
      for (const schema of db.schemas) {
        const s = d?.schemas?.[schema.name];
        if (!wholeDb && !s) continue;
        renames.push({ from: { db: db.name, schema: schema.name }, to: { db: targetDb, schema: name(s?.name, schema.name) }, whole: wholeDb || s?.all === true || !s?.tables });
      }
    } else {
      renames.push({ from: { db: db.name }, to: { db: targetDb }, whole: wholeDb });
    }
  }
  const placement: ObjectPlacement = {
    renames,
    table: (ref) => mappings.find((m) => sameTable(m.source, ref))?.target,
    replaceDefiner: job.policy.replace_definer !== false,
  };
  return { placement, scope: { containers: renames.filter((r) => r.whole).map((r) => r.from), tables: mappings.map((m) => m.source) } };
}

const objectName = (o: { db?: string; schema?: string; name: string; signature?: string }) => `${[o.db, o.schema, o.name].filter((x) => x !== undefined).join('.')}${o.signature !== undefined ? `(${o.signature})` : ''}`;

/** Read, create, record and log one set of object kinds. Returns the failures. */
async function migrateObjects(job: Job, deps: JobDeps, source: SourceEngine, target: TargetEngine, placement: ObjectPlacement, scope: ObjectScope, step: string): Promise<string[]> {
  if (!isObjectSource(source) || !isObjectTarget(target)) return [];
  if (scope.containers.length === 0 && scope.tables.length === 0) return [];
  const defs = await source.readObjects(scope);
  if (defs.length === 0) return [];
  // Kept definers/owners that are not on the target: the object is created, and this is said.
  const missing = new Set<string>();
  if (!placement.replaceDefiner) {
    const definers = [...new Set(defs.map((d) => d.definer).filter((d): d is string => !!d))];
    const have = new Set(await target.accountsExist(definers));
    for (const d of definers) if (!have.has(d)) missing.add(d);
  }
  const results = await target.createObjects(defs, placement);
  const at = Date.now();
  const records: ObjectRecord[] = results.map((r, i) => {
    const d: DbObjectDef = defs[i]!;
    const note = r.status === 'done' && !r.message && d.definer && missing.has(d.definer) ? `its definer ${d.definer} does not exist on the target: migrate that account or create it, or the object fails when used` : undefined;
    const message = [r.message, note].filter(Boolean).join('; ');
    return { kind: r.kind, source: r.source, target: r.target, status: r.status, ...(message ? { message: message.slice(0, 1000) } : {}), at };
  });
  await deps.jobs.putObjects(job, records);
  const by = (s: ObjectResult['status']) => results.filter((r) => r.status === s).length;
  const kinds = [...new Set(results.map((r) => r.kind))].map((k) => `${results.filter((r) => r.kind === k).length} ${k}${results.filter((r) => r.kind === k).length === 1 ? '' : 's'}`).join(', ');
  await log(deps, job, `${step}: ${kinds}: ${by('done')} created, ${by('existing')} already on the target (left as they are), ${by('failed')} failed${placement.replaceDefiner ? '; definers replaced by the migration user' : '; source definers kept'}`);
  for (const r of records) if (r.status === 'done' && r.message) await log(deps, job, `${r.kind} ${objectName(r.target)}: ${r.message}`, 'WARN');
  const failures = results.filter((r) => r.status === 'failed').map((r) => `${r.kind} ${objectName(r.source)}: ${r.message ?? 'failed'}`);
  for (const f of failures) await log(deps, job, `object migration failed: ${f}`, 'ERROR');
  return failures;
}

/**
 * copySchema, after the tables: the selected accounts, the functions, procedures and views,
 * then the accounts' grants. Throws ObjectMigrationError after trying everything when any failed.
 */
export async function copyObjectsAndUsers(job: Job, deps: JobDeps, source: SourceEngine, target: TargetEngine, objects: DbObjects, mappings: TableMapping[]): Promise<void> {
  const { placement, scope } = objectPlacement(job, objects, mappings);
  const users = await createUsers(job, deps, source, target, scope);
  const failures = [...users.failures];
  failures.push(...(await migrateObjects(job, deps, source, target, placement, { ...scope, kinds: SCHEMA_KINDS }, 'step 2/5 schema copy')));
  failures.push(...(await grantUsers(job, deps, target, users.created, placement)));
  if (failures.length) throw new ObjectMigrationError(failures);
}

/**
 * Triggers and events, once nothing more is copied into their tables: finishFullLoad (full
 * migration) or releaseResources (jobs with incremental sync). `graceMs`: wait first, so that a
 * change batch the stopping sync task was applying when the job ended is committed before any
 * trigger exists.
 */
export async function createDeferredObjects(job: Job, deps: JobDeps, open: Open = openEngine, opts: { graceMs?: number } = {}): Promise<void> {
  const tables = await deps.jobs.listTables(job);
  const source = open(await endpointConfig(job, 'source', deps));
  const target = open(await endpointConfig(job, 'target', deps));
  try {
    if (!isObjectSource(source) || !isObjectTarget(target)) return;
    const objects = jobObjects(job.source, await source.listObjects());
    const { placement, scope } = objectPlacement(job, objects, tables);
    const defs = await source.readObjects({ ...scope, kinds: DEFERRED_KINDS });
    if (defs.length === 0) return;
    if (opts.graceMs) await new Promise((r) => setTimeout(r, opts.graceMs));
    const failures = await migrateObjects(job, deps, source, target, placement, { ...scope, kinds: DEFERRED_KINDS }, 'triggers and events');
    if (failures.length) throw new ObjectMigrationError(failures);
  } finally {
    await Promise.allSettled([source.close(), target.close()]);
  }
}

const item = (name: string, result: CheckResult['result'], reason?: string, advice?: string, objects?: string[]): CheckResult => ({
  item: name,
  group: 'db_params',
  result,
  ...(reason ? { failed_reason: reason } : {}),
  ...(advice ? { advice } : {}),
  ...(objects?.length ? { objects: objects.slice(0, 100) } : {}),
});

/**
 * Precheck of the objects the job will create: definitions the source user cannot read
 * (srcRoutinesWithoutPrivilegeCheck) and, when definers are kept, definers/owners that do not
 * exist on the target and are not migrated by the job (userRequirementsIsEnoughForDefiner). Alarms.
 */
export async function precheckObjects(job: Job, source: SourceEngine, target: TargetEngine, objects: DbObjects, mappings: TableMapping[]): Promise<CheckResult[]> {
  if (!isObjectSource(source) || !isObjectTarget(target)) return [];
  const { placement, scope } = objectPlacement(job, objects, mappings);
  const defs = await source.readObjects({ ...scope, kinds: [...SCHEMA_KINDS, ...DEFERRED_KINDS] });
  const out: CheckResult[] = [];
  const unreadable = defs.filter((d) => !d.ddl);
  out.push(
    unreadable.length
      ? item(
          'srcRoutinesWithoutPrivilegeCheck',
          'alarm',
          `${unreadable.length} object${unreadable.length === 1 ? '' : 's'} cannot be migrated: ${unreadable.slice(0, 5).map((d) => d.unreadable).join('; ')}`,
          'Grant the source user what reading them needs (MySQL 8: SHOW_ROUTINE; MariaDB: SELECT on mysql.proc; or run as their definer), or deselect their databases; otherwise the job fails when it reaches them.',
          unreadable.map((d) => `${d.kind} ${objectName(d)}`),
        )
      : item('srcRoutinesWithoutPrivilegeCheck', 'passed'),
  );
  if (placement.replaceDefiner) {
    out.push(item('userRequirementsIsEnoughForDefiner', 'passed'));
    return out;
  }
  const definers = [...new Set(defs.map((d) => d.definer).filter((d): d is string => !!d))];
  const migrated = new Set(selectedAccounts(job));
  const have = new Set(await target.accountsExist(definers));
  const missing = definers.filter((d) => !have.has(d) && !migrated.has(d));
  out.push(
    missing.length
      ? item(
          'userRequirementsIsEnoughForDefiner',
          'alarm',
          `replace_definer is false and these definers/owners of views, routines, triggers or events do not exist on the target and are not migrated by this job: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}. MySQL objects are created with that definer and fail when used (SQL SECURITY DEFINER views and routines, triggers); PostgreSQL objects stay owned by the migration user.`,
          'Set replace_definer to true (batch-replace-definer) so the migration user becomes their definer, migrate these accounts with the job (batch-update-user), or create them on the target first.',
          missing,
        )
      : item('userRequirementsIsEnoughForDefiner', 'passed'),
  );
  return out;
}
