/**
 * PostgreSQL prechecks. The catalogue below is the one list of items this engine checks; each
 * check returns a CheckResult (findings are results, not exceptions) and only a check that cannot
 * run at all throws. Item names are the seed's (Appendix F) where one exists.
 *
 * The evaluators over server settings are pure functions (exported for unit tests); the rest
 * query the catalog as the job's own user, so privileges are the user's real ones.
 */
import type { CheckResult, EndpointConfig, PrecheckItem, PrecheckScope, ServerInfo, TableRef, TableSchema } from '../engine.js';
import { danglingForeignKeys, incremental, resultsOf } from '../precheck-result.js';
import { usableKey } from './chunks.js';
import { qtable, schemaOf, testConnection, type PgClient } from './connection.js';
import { readSchema, type PgNative } from './schema.js';

/** Every item this engine reports, in report order. */
export const PRECHECKS: readonly PrecheckItem[] = [
  { item: 'srcDbConnection', group: 'network', role: 'source', checks: 'Connect, authenticate and run a query within the connect timeout.' },
  { item: 'srcDbVersionSupport', group: 'db_version', role: 'source', checks: 'PostgreSQL 12 or later.' },
  { item: 'srcWalLevelCheck', group: 'db_params', role: 'source', incremental: true, checks: 'wal_level=logical.' },
  { item: 'srcReplicationSlotCheck', group: 'db_params', role: 'source', incremental: true, checks: 'At least one free replication slot (max_replication_slots minus slots in use).' },
  { item: 'srcWalSenderCheck', group: 'db_params', role: 'source', incremental: true, checks: 'At least one free WAL sender (max_wal_senders minus running walsenders).' },
  { item: 'srcDbPrivilegesIsEnoughForIncr', group: 'db_user_privilege', role: 'source', incremental: true, checks: 'The user has the REPLICATION attribute or is a superuser.' },
  { item: 'userSelectObjectsCheck', group: 'db_params', role: 'source', checks: 'Every selected table exists.' },
  { item: 'srcDbPrivilegesIsEnough', group: 'db_user_privilege', role: 'source', checks: 'USAGE on the schema and SELECT on every selected table.' },
  { item: 'srcReplicaIdentityCheck', group: 'db_params', role: 'source', incremental: true, checks: 'Replica identity lets updates and deletes be applied: NOTHING fails; DEFAULT without a primary key is an alarm (the job sets FULL at start); FULL, INDEX or DEFAULT with a key pass.' },
  { item: 'srcTableNoPrimaryKeyCheck', group: 'db_params', role: 'source', checks: 'Selected tables without a primary key or NOT NULL unique key (one chunk, no idempotent upsert). Alarm, tables listed.' },
  { item: 'srcUnloggedTableCheck', group: 'db_params', role: 'source', incremental: true, checks: 'No selected table is UNLOGGED (its changes are not in the WAL).' },
  { item: 'srcUnsupportedTypeCheck', group: 'db_params', role: 'source', checks: 'Column types are built in or enums (domains, composite, range and extension types cannot be recreated on the target).' },
  { item: 'hasForeignKeyOnUnselectedTable', group: 'db_params', role: 'source', checks: 'Selected tables with foreign keys to tables that are not selected (the key is created only if that table exists on the target). Alarm, listed.' },
  { item: 'dstDbConnection', group: 'network', role: 'target', checks: 'Connect, authenticate and run a query within the connect timeout.' },
  { item: 'dstDbVersionSupport', group: 'db_version', role: 'target', checks: 'PostgreSQL 12 or later.' },
  { item: 'dstStatusCheck', group: 'db_target_status', role: 'target', checks: 'The target is writable: not a standby in recovery, transaction_read_only off for this user.' },
  { item: 'dstDbExistCheck', group: 'db_params', role: 'target', checks: 'The target databases exist; alarm when one will be created.' },
  { item: 'dstDbPrivilegesIsEnough', group: 'db_user_privilege', role: 'target', checks: 'CREATEDB for missing databases; CONNECT and CREATE (for missing schemas) on each database; USAGE and CREATE on existing schemas; SELECT, INSERT, UPDATE, DELETE on existing target tables.' },
  { item: 'dstTableNameConflictCheck', group: 'db_object_conflict_check', role: 'target', checks: 'No target table of the same name holds rows (failed); an empty one is an alarm.' },
  { item: 'dbCharacterSetConsistency', group: 'db_params', role: 'target', checks: 'The target database encoding can hold the source encoding (same, or UTF8), and explicit column collations exist on the target.' },
];

const result = resultsOf(PRECHECKS);
const name = (t: TableRef) => `${t.db}.${schemaOf(t)}.${t.table}`;

// ---------------------------------------------------------------------------------------------
// Pure evaluators

export function evaluateVersion(info: ServerInfo, item: 'srcDbVersionSupport' | 'dstDbVersionSupport'): CheckResult {
  return info.versionNumber >= 12
    ? result(item, 'passed')
    : result(item, 'failed', `PostgreSQL ${info.version} is not supported.`, 'Use PostgreSQL 12 or later.');
}

export function evaluateReplication(v: Record<string, string>, used: { slots: number; senders: number }): CheckResult[] {
  const maxSlots = Number(v.max_replication_slots ?? 0);
  const maxSenders = Number(v.max_wal_senders ?? 0);
  return [
    v.wal_level === 'logical'
      ? result('srcWalLevelCheck', 'passed')
      : result('srcWalLevelCheck', 'failed', `wal_level is ${v.wal_level}; logical decoding needs logical.`, 'Set wal_level = logical in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart the server.'),
    maxSlots - used.slots >= 1
      ? result('srcReplicationSlotCheck', 'passed')
      : result(
          'srcReplicationSlotCheck',
          'failed',
          `No replication slot is free: ${used.slots} of max_replication_slots=${maxSlots} are in use.`,
          'Drop unused slots (pg_drop_replication_slot) or raise max_replication_slots and restart the server.',
        ),
    maxSenders - used.senders >= 1
      ? result('srcWalSenderCheck', 'passed')
      : result('srcWalSenderCheck', 'failed', `No WAL sender is free: ${used.senders} of max_wal_senders=${maxSenders} are running.`, 'Raise max_wal_senders and restart the server.'),
  ];
}

// ---------------------------------------------------------------------------------------------

async function connectionItem(cfg: EndpointConfig, item: 'srcDbConnection' | 'dstDbConnection'): Promise<CheckResult> {
  const r = await testConnection(cfg);
  return r.success ? result(item, 'passed') : result(item, 'failed', `${r.code}: ${r.message}`, 'Fix the connection settings (host, port, user, password, SSL) and test the connection again.');
}

interface TableFacts {
  ref: TableRef;
  exists: boolean;
  select: boolean;
  usage: boolean;
  writable: boolean;
  persistence?: string;
  replident?: string;
}

/** Existence and the current user's privileges for each table, one query per database. */
async function tableFacts(client: PgClient, tables: TableRef[]): Promise<TableFacts[]> {
  const out: TableFacts[] = [];
  const dbs = [...new Set(tables.map((t) => t.db))];
  for (const db of dbs) {
    const refs = tables.filter((t) => t.db === db);
    const rows = await client.rows<{ schema: string; name: string; usage: string; sel: string | null; wr: string | null; persistence: string | null; replident: string | null }>(
      db,
      `SELECT r.schema, r.name, COALESCE(has_schema_privilege(n.oid, 'USAGE'), false)::text AS usage,
              CASE WHEN c.oid IS NOT NULL THEN has_table_privilege(c.oid, 'SELECT')::text END AS sel,
              CASE WHEN c.oid IS NOT NULL THEN has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE')::text END AS wr,
              c.relpersistence AS persistence, c.relreplident AS replident
         FROM unnest($1::text[], $2::text[]) AS r(schema, name)
         LEFT JOIN pg_namespace n ON n.nspname = r.schema
         LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = r.name AND c.relkind IN ('r', 'p')`,
      [refs.map(schemaOf), refs.map((r) => r.table)],
    );
    for (const ref of refs) {
      const r = rows.find((x) => x.schema === schemaOf(ref) && x.name === ref.table);
      out.push({
        ref,
        exists: r?.sel !== null && r?.sel !== undefined,
        select: r?.sel === 'true',
        usage: r?.usage === 'true',
        writable: r?.wr === 'true' && r?.usage === 'true',
        persistence: r?.persistence ?? undefined,
        replident: r?.replident ?? undefined,
      });
    }
  }
  return out;
}

export async function precheckSource(client: PgClient, scope: PrecheckScope): Promise<CheckResult[]> {
  const conn = await connectionItem(client.cfg, 'srcDbConnection');
  if (conn.result === 'failed') return [conn];
  const out: CheckResult[] = [conn];
  const info = await client.serverInfo();
  out.push(evaluateVersion(info, 'srcDbVersionSupport'));
  const db = client.defaultDb;
  if (incremental(scope)) {
    const [[slots, senders]] = (await client.arrays(
      db,
      "SELECT (SELECT count(*) FROM pg_replication_slots)::text, (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')::text",
    )) as [[string, string]];
    out.push(...evaluateReplication(info.variables, { slots: Number(slots), senders: Number(senders) }));
    const [role] = await client.rows<{ repl: string; sup: string }>(db, 'SELECT rolreplication::text AS repl, rolsuper::text AS sup FROM pg_roles WHERE rolname = current_user');
    out.push(
      role?.repl === 'true' || role?.sup === 'true'
        ? result('srcDbPrivilegesIsEnoughForIncr', 'passed')
        : result('srcDbPrivilegesIsEnoughForIncr', 'failed', 'The user has neither the REPLICATION attribute nor superuser, so it cannot use logical replication.', 'Run ALTER ROLE <user> REPLICATION.'),
    );
  }
  const facts = await tableFacts(client, scope.tables);
  const absent = facts.filter((f) => !f.exists);
  out.push(
    absent.length === 0
      ? result('userSelectObjectsCheck', 'passed')
      : result('userSelectObjectsCheck', 'failed', `${absent.length} selected table(s) do not exist.`, 'Check the object selection.', absent.map((f) => name(f.ref))),
  );
  const denied = facts.filter((f) => f.exists && !(f.select && f.usage));
  out.push(
    denied.length === 0
      ? result('srcDbPrivilegesIsEnough', 'passed')
      : result(
          'srcDbPrivilegesIsEnough',
          'failed',
          `The user cannot read ${denied.length} selected table(s) (USAGE on the schema and SELECT on the table are needed).`,
          'GRANT USAGE ON SCHEMA ... and GRANT SELECT ON ALL TABLES IN SCHEMA ... TO the migration user.',
          denied.map((f) => name(f.ref)),
        ),
  );
  const readable = facts.filter((f) => f.exists && f.select && f.usage);
  const schemas = readable.length ? await readSchema(client, readable.map((f) => f.ref)) : [];
  if (incremental(scope)) {
    // NOTHING is the user's explicit choice: it fails. DEFAULT without a key is set to FULL by the
    // job when it starts (prepareCdc), before the slot is created: an alarm that says so.
    const nothing = schemas.filter((s) => (s.native as PgNative).replicaIdentity === 'n');
    const defaultNoKey = schemas.filter((s) => (s.native as PgNative).replicaIdentity === 'd' && s.primaryKey.length === 0);
    out.push(
      nothing.length
        ? result(
            'srcReplicaIdentityCheck',
            'failed',
            `${nothing.length} table(s) have REPLICA IDENTITY NOTHING: their updates and deletes cannot be replicated.`,
            'Run ALTER TABLE ... REPLICA IDENTITY DEFAULT (with a primary key), FULL, or USING INDEX a unique NOT NULL index.',
            nothing.map((s) => name(s.ref)),
          )
        : defaultNoKey.length
          ? result(
              'srcReplicaIdentityCheck',
              'alarm',
              `${defaultNoKey.length} table(s) have no primary key and REPLICA IDENTITY DEFAULT: the job sets REPLICA IDENTITY FULL on them when it starts, so updates and deletes carry the whole old row.`,
              'Add a primary key if you can; FULL makes the source log whole old rows for these tables.',
              defaultNoKey.map((s) => name(s.ref)),
            )
          : result('srcReplicaIdentityCheck', 'passed'),
    );
  }
  const keyless = schemas.filter((s) => usableKey(s).length === 0).map((s) => name(s.ref));
  out.push(
    keyless.length === 0
      ? result('srcTableNoPrimaryKeyCheck', 'passed')
      : result(
          'srcTableNoPrimaryKeyCheck',
          'alarm',
          `${keyless.length} table(s) have no primary key or NOT NULL unique key: each is copied as one chunk, and incremental changes to duplicate rows cannot be told apart.`,
          'Add a primary key to these tables before migrating, if you can.',
          keyless,
        ),
  );
  if (incremental(scope)) {
    const unlogged = schemas.filter((s) => (s.native as PgNative).persistence === 'u').map((s) => name(s.ref));
    out.push(
      unlogged.length === 0
        ? result('srcUnloggedTableCheck', 'passed')
        : result('srcUnloggedTableCheck', 'failed', `${unlogged.length} table(s) are UNLOGGED: their changes never reach the WAL, so incremental sync cannot see them.`, 'Run ALTER TABLE ... SET LOGGED, or migrate them without incremental sync.', unlogged),
    );
  }
  const odd = schemas.flatMap((s) =>
    (s.native as PgNative).columns.filter((c) => c.typeKind !== 'builtin' && c.typeKind !== 'enum').map((c) => `${name(s.ref)}.${c.name} (${c.typeName})`),
  );
  out.push(
    odd.length === 0
      ? result('srcUnsupportedTypeCheck', 'passed')
      : result(
          'srcUnsupportedTypeCheck',
          'failed',
          `${odd.length} column(s) use a domain, composite, range or extension type, which schema migration cannot create on the target.`,
          'Create these types (or extensions) on the target first and map the tables onto existing target tables, or change the column types.',
          odd,
        ),
  );
  const selected = new Set(scope.tables.map((t) => `${t.db}\u0000${schemaOf(t)}\u0000${t.table}`));
  const dangling = schemas.flatMap((s) =>
    (s.native as PgNative).constraints
      .filter((c) => c.type === 'f' && c.ref && !selected.has(`${s.ref.db}\u0000${c.ref[0]}\u0000${c.ref[1]}`))
      .map((c) => `${name(s.ref)} (${c.name}) -> ${s.ref.db}.${c.ref![0]}.${c.ref![1]}`),
  );
  out.push(danglingForeignKeys(result, dangling, 'Select the referenced tables too, or create them on the target first: a foreign key whose table is missing there is not created.'));
  return out;
}

export async function precheckTarget(client: PgClient, scope: PrecheckScope, sourceTables: TableSchema[]): Promise<CheckResult[]> {
  const conn = await connectionItem(client.cfg, 'dstDbConnection');
  if (conn.result === 'failed') return [conn];
  const out: CheckResult[] = [conn];
  const info = await client.serverInfo();
  out.push(evaluateVersion(info, 'dstDbVersionSupport'));
  const ro = info.variables.in_recovery === 'on' ? 'the server is a standby in recovery' : info.variables.session_transaction_read_only === 'on' ? 'transaction_read_only is on for this user' : '';
  out.push(
    ro === ''
      ? result('dstStatusCheck', 'passed')
      : result('dstStatusCheck', 'failed', `The target is read-only: ${ro}.`, 'Use the primary server, or turn off default_transaction_read_only for this user and database.'),
  );
  const dbs = [...new Set([...scope.databases, ...scope.tables.map((t) => t.db)])];
  const dbRows = await client.rows<{ name: string; encoding: string; connect: string }>(
    client.defaultDb,
    "SELECT datname AS name, pg_encoding_to_char(encoding) AS encoding, has_database_privilege(oid, 'CONNECT')::text AS connect FROM pg_database WHERE datname = ANY($1::text[]) OR datname = 'template1'",
    [dbs],
  );
  const existing = new Map(dbRows.map((r) => [r.name, r]));
  const missing = dbs.filter((d) => !existing.has(d));
  out.push(
    missing.length === 0
      ? result('dstDbExistCheck', 'passed')
      : result('dstDbExistCheck', 'alarm', `${missing.length} target database(s) do not exist yet and will be created.`, 'Create them yourself first if they need a particular encoding or locale.', missing),
  );
  const [role] = await client.rows<{ createdb: string; sup: string }>(client.defaultDb, 'SELECT rolcreatedb::text AS createdb, rolsuper::text AS sup FROM pg_roles WHERE rolname = current_user');
  const problems: string[] = [];
  const objects: string[] = [];
  if (missing.length && role?.createdb !== 'true' && role?.sup !== 'true') {
    problems.push(`CREATEDB (to create ${missing.join(', ')})`);
    objects.push(...missing);
  }
  const connectable = dbs.filter((d) => existing.has(d));
  for (const d of connectable.filter((x) => existing.get(x)!.connect !== 'true')) {
    problems.push(`CONNECT on database ${d}`);
    objects.push(d);
  }
  const facts: TableFacts[] = [];
  for (const d of connectable.filter((x) => existing.get(x)!.connect === 'true')) {
    const schemas = [...new Set(scope.tables.filter((t) => t.db === d).map(schemaOf))];
    const rows = await client.rows<{ schema: string; exists: string; usage: string | null; create: string | null; dbcreate: string }>(
      d,
      `SELECT s AS schema, (n.oid IS NOT NULL)::text AS exists, has_schema_privilege(n.oid, 'USAGE')::text AS usage, has_schema_privilege(n.oid, 'CREATE')::text AS create,
              has_database_privilege(current_database(), 'CREATE')::text AS dbcreate
         FROM unnest($1::text[]) AS s LEFT JOIN pg_namespace n ON n.nspname = s`,
      [schemas],
    );
    for (const r of rows) {
      if (r.exists === 'true' && (r.usage !== 'true' || r.create !== 'true')) problems.push(`USAGE and CREATE on schema ${d}.${r.schema}`), objects.push(`${d}.${r.schema}`);
      if (r.exists !== 'true' && r.dbcreate !== 'true') problems.push(`CREATE on database ${d} (to create schema ${r.schema})`), objects.push(`${d}.${r.schema}`);
    }
    facts.push(...(await tableFacts(client, scope.tables.filter((t) => t.db === d))));
  }
  for (const f of facts.filter((x) => x.exists && !x.writable)) {
    problems.push(`SELECT, INSERT, UPDATE, DELETE on ${name(f.ref)}`);
    objects.push(name(f.ref));
  }
  out.push(
    problems.length === 0
      ? result('dstDbPrivilegesIsEnough', 'passed')
      : result('dstDbPrivilegesIsEnough', 'failed', `The user lacks: ${problems.join('; ')}.`, 'Grant these privileges to the migration user on the target.', objects),
  );
  const busy: string[] = [];
  const empty: string[] = [];
  for (const f of facts.filter((x) => x.exists)) {
    const rows = f.select ? await client.arrays(f.ref.db, `SELECT 1 FROM ${qtable(f.ref)} LIMIT 1`) : [[1]];
    (rows.length ? busy : empty).push(name(f.ref));
  }
  out.push(
    busy.length
      ? result('dstTableNameConflictCheck', 'failed', `${busy.length} target table(s) already exist and hold rows.`, 'Empty or drop them, or map the tables to other names.', [...busy, ...empty])
      : empty.length
        ? result('dstTableNameConflictCheck', 'alarm', `${empty.length} target table(s) already exist (empty); they are kept if their structure matches.`, 'Drop them if the migration should create them.', empty)
        : result('dstTableNameConflictCheck', 'passed'),
  );
  out.push(await charsetCheck(client, dbs, existing, sourceTables));
  return out;
}

async function charsetCheck(client: PgClient, dbs: string[], existing: Map<string, { encoding: string }>, sourceTables: TableSchema[]): Promise<CheckResult> {
  const encodings = [...new Set(sourceTables.map((t) => t.charset).filter((c): c is string => !!c))];
  const problems: string[] = [];
  const objects: string[] = [];
  for (const d of dbs) {
    // A database that does not exist yet is created from template1.
    const target = (existing.get(d) ?? existing.get('template1'))?.encoding;
    const incompatible = encodings.filter((e) => target && e !== target && target !== 'UTF8' && e !== 'SQL_ASCII');
    if (incompatible.length) {
      problems.push(`database ${d} uses encoding ${target}, which cannot hold ${incompatible.join(', ')} text`);
      objects.push(d);
    }
  }
  const collations = new Map<string, string[]>();
  for (const t of sourceTables) {
    for (const c of t.columns.filter((x) => x.collation)) {
      if (!collations.has(c.collation!)) collations.set(c.collation!, []);
      collations.get(c.collation!)!.push(`${name(t.ref)}.${c.name}`);
    }
  }
  if (collations.size) {
    const known = new Set((await client.rows<{ n: string }>(client.defaultDb, 'SELECT DISTINCT collname AS n FROM pg_collation WHERE collname = ANY($1::text[])', [[...collations.keys()]])).map((r) => r.n));
    for (const [coll, cols] of collations) {
      if (!known.has(coll)) {
        problems.push(`collation ${coll} does not exist on the target`);
        objects.push(...cols);
      }
    }
  }
  return problems.length === 0
    ? result('dbCharacterSetConsistency', 'passed')
    : result('dbCharacterSetConsistency', 'failed', `${problems.join('; ')}.`, 'Create the target database with encoding UTF8 (or the source encoding), and make sure the collations exist (ICU or OS locales) on the target.', objects);
}
