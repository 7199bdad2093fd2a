/**
 * MySQL/MariaDB prechecks. The catalogue below is the one list of items this engine checks; each
 * check returns a CheckResult (findings are results, not exceptions) and only a check that cannot
 * run at all throws. Item names are the seed's (Appendix F) where one exists.
 *
 * The evaluators over server variables are pure functions (exported for unit tests); the rest
 * read information_schema as the job's own user, so privileges are the user's real ones.
 */
import type { CheckResult, EndpointConfig, PrecheckItem, PrecheckScope, ServerInfo, TableRef, TableSchema } from '../engine.js';
import { danglingForeignKeys, incremental, resultsOf } from '../precheck-result.js';
import { qtable, testConnection, versionParts, type MySqlClient } from './connection.js';
import { usableKey } from './chunks.js';
import { readSchema } from './schema.js';

/** Every item this engine reports, in report order. */
export const PRECHECKS: readonly PrecheckItem[] = [
  { item: 'srcDbConnection', group: 'network', role: 'source', checks: 'Connect, authenticate and run a query within the connect timeout.' },
  { item: 'srcDbVersionSupport', group: 'db_version', role: 'source', checks: 'MySQL 5.7 or later, or MariaDB 10.2 or later.' },
  { item: 'srcDbBinlogIsOff', group: 'db_params', role: 'source', incremental: true, checks: 'Binary logging is on (log_bin=ON).' },
  { item: 'srcBinlogFormatCheck', group: 'db_params', role: 'source', incremental: true, checks: 'binlog_format=ROW.' },
  { item: 'srcBinlogRowImageCheck', group: 'db_params', role: 'source', incremental: true, checks: 'binlog_row_image=FULL.' },
  { item: 'srcDbServerIdCheck', group: 'db_params', role: 'source', incremental: true, checks: 'server_id is set (not 0).' },
  { item: 'srcDbBinlogExpireLogsDays', group: 'db_params', role: 'source', incremental: true, checks: 'Binlogs are kept at least 1 day (binlog_expire_logs_seconds / expire_logs_days; 0 = forever). Alarm below.' },
  { item: 'srcDbPrivilegesIsEnoughForIncr', group: 'db_user_privilege', role: 'source', incremental: true, checks: 'Global REPLICATION SLAVE and REPLICATION CLIENT (MariaDB: BINLOG MONITOR).' },
  { item: 'userSelectObjectsCheck', group: 'db_params', role: 'source', checks: 'Every selected table exists and the user can see it.' },
  { item: 'srcDbPrivilegesIsEnough', group: 'db_user_privilege', role: 'source', checks: 'SELECT on every selected table (global, database or table grant).' },
  { item: 'srcTableNoPrimaryKeyCheck', group: 'db_params', role: 'source', checks: 'Selected tables without a primary key or NOT NULL unique key (one chunk, no idempotent upsert). Alarm, tables listed.' },
  { item: 'srcDbExistUnsupportEngineTable', group: 'db_params', role: 'source', checks: 'Selected tables not in InnoDB: alarm for full migration, failed with incremental sync (no consistent, transactional capture).' },
  { item: 'hasForeignKeyOnUnselectedTable', group: 'db_params', role: 'source', checks: 'Selected tables with foreign keys to tables that are not selected (the key cannot be enforced on the target until that table exists there). Alarm, listed.' },
  { item: 'dstDbConnection', group: 'network', role: 'target', checks: 'Connect, authenticate and run a query within the connect timeout.' },
  { item: 'dstDbVersionSupport', group: 'db_version', role: 'target', checks: 'MySQL 5.7 or later, or MariaDB 10.2 or later.' },
  { item: 'dstStatusCheck', group: 'db_target_status', role: 'target', checks: 'The target is writable (read_only, super_read_only, innodb_read_only off).' },
  { item: 'dstDbExistCheck', group: 'db_params', role: 'target', checks: 'The target databases exist; alarm when one will be created.' },
  { item: 'dstDbPrivilegesIsEnough', group: 'db_user_privilege', role: 'target', checks: 'SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX on every target database.' },
  { item: 'dstTableNameConflictCheck', group: 'db_object_conflict_check', role: 'target', checks: 'No target table of the same name holds rows (failed); an empty one is an alarm.' },
  { item: 'dbCharacterSetConsistency', group: 'db_params', role: 'target', checks: "Every character set and collation the source tables use exists on the target." },
];

const result = resultsOf(PRECHECKS);
const name = (t: TableRef) => `${t.db}.${t.table}`;

// ---------------------------------------------------------------------------------------------
// Pure evaluators

export function evaluateVersion(info: ServerInfo, item: 'srcDbVersionSupport' | 'dstDbVersionSupport'): CheckResult {
  const [major, minor] = versionParts(info.version);
  const ok = info.flavor === 'mariadb' ? major > 10 || (major === 10 && minor >= 2) : major > 5 || (major === 5 && minor >= 7);
  return ok
    ? result(item, 'passed')
    : result(item, 'failed', `${info.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${info.version} is not supported.`, 'Use MySQL 5.7, 8.x or later, or MariaDB 10.2 or later.');
}

export function evaluateBinlog(v: Record<string, string>): CheckResult[] {
  const on = (x: string | undefined) => ['ON', '1', 'YES', 'TRUE'].includes(String(x ?? '').toUpperCase());
  const out: CheckResult[] = [];
  out.push(
    on(v.log_bin)
      ? result('srcDbBinlogIsOff', 'passed')
      : result('srcDbBinlogIsOff', 'failed', 'Binary logging is off (log_bin=OFF), so changes cannot be captured.', 'Start the server with log_bin (e.g. --log-bin=mysql-bin) and restart it.'),
  );
  const fmt = String(v.binlog_format ?? '').toUpperCase();
  out.push(
    fmt === 'ROW'
      ? result('srcBinlogFormatCheck', 'passed')
      : result('srcBinlogFormatCheck', 'failed', `binlog_format is ${fmt || 'unset'}; incremental sync needs ROW.`, "Run SET GLOBAL binlog_format='ROW' and set it in the server configuration, then reconnect the applications' sessions."),
  );
  const img = String(v.binlog_row_image ?? 'FULL').toUpperCase();
  out.push(
    img === 'FULL'
      ? result('srcBinlogRowImageCheck', 'passed')
      : result('srcBinlogRowImageCheck', 'failed', `binlog_row_image is ${img}; incremental sync needs FULL (complete before and after images).`, "Run SET GLOBAL binlog_row_image='FULL' and set it in the server configuration."),
  );
  const sid = Number(v.server_id ?? 0);
  out.push(
    sid >= 1
      ? result('srcDbServerIdCheck', 'passed')
      : result('srcDbServerIdCheck', 'failed', 'server_id is 0, so the server cannot take part in replication.', 'Set server_id to a unique value of 1 or more (SET GLOBAL server_id=N and in the configuration).'),
  );
  const seconds = Number(v.binlog_expire_logs_seconds ?? 0);
  const days = Number(v.expire_logs_days ?? 0);
  const retention = seconds > 0 ? seconds : days > 0 ? days * 86400 : 0;
  out.push(
    retention === 0 || retention >= 86400
      ? result('srcDbBinlogExpireLogsDays', 'passed')
      : result(
          'srcDbBinlogExpireLogsDays',
          'alarm',
          `Binlogs are removed after ${Math.round(retention)} s, less than one day: a paused or lagging sync may find its position purged.`,
          'Keep binlogs for at least 1 day (binlog_expire_logs_seconds=86400 or more, or expire_logs_days=1 or more).',
        ),
  );
  return out;
}

/** MySQL LIKE as used by database-level grants: `%`, `_`, backslash escapes. */
export function grantPatternMatches(pattern: string, value: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$', 'u').test(value);
}

// ---------------------------------------------------------------------------------------------
// Privileges of the connected user (global, database-level with patterns, table-level)

interface Grants {
  global: Set<string>;
  schemas: { pattern: string; privs: Set<string> }[];
  tables: Map<string, Set<string>>;
}

async function readGrants(client: MySqlClient): Promise<Grants> {
  const [[cu]] = (await client.arrays('SELECT CURRENT_USER()')).rows as [[string]];
  const at = cu.lastIndexOf('@');
  const grantee = `'${cu.slice(0, at).replace(/'/g, "''")}'@'${cu.slice(at + 1)}'`;
  const global = new Set(
    (await client.rows<{ p: string }>('SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?', [grantee])).map((r) => r.p.toUpperCase()),
  );
  const schemas: Grants['schemas'] = [];
  for (const r of await client.rows<{ s: string; p: string }>('SELECT TABLE_SCHEMA AS s, PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?', [grantee])) {
    let e = schemas.find((x) => x.pattern === r.s);
    if (!e) schemas.push((e = { pattern: r.s, privs: new Set() }));
    e.privs.add(r.p.toUpperCase());
  }
  const tables = new Map<string, Set<string>>();
  for (const r of await client.rows<{ s: string; t: string; p: string }>(
    'SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, PRIVILEGE_TYPE AS p FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?',
    [grantee],
  )) {
    const k = `${r.s}\u0000${r.t}`;
    if (!tables.has(k)) tables.set(k, new Set());
    tables.get(k)!.add(r.p.toUpperCase());
  }
  return { global, schemas, tables };
}

function hasOnDb(g: Grants, db: string, priv: string): boolean {
  return g.global.has(priv) || g.schemas.some((s) => s.privs.has(priv) && grantPatternMatches(s.pattern, db));
}
function hasOnTable(g: Grants, t: TableRef, priv: string): boolean {
  return hasOnDb(g, t.db, priv) || !!g.tables.get(`${t.db}\u0000${t.table}`)?.has(priv);
}

// ---------------------------------------------------------------------------------------------

async function connectionItem(cfg: EndpointConfig, item: 'srcDbConnection' | 'dstDbConnection'): Promise<CheckResult> {
  const r = await testConnection(cfg);
  return r.success ? result(item, 'passed') : result(item, 'failed', `${r.code}: ${r.message}`, 'Fix the connection settings (host, port, user, password, SSL) and test the connection again.');
}

async function visibleTables(client: MySqlClient, tables: TableRef[]): Promise<Map<string, { engine: string | null }>> {
  const found = new Map<string, { engine: string | null }>();
  if (tables.length === 0) return found;
  const rows = await client.rows<{ db: string; t: string; engine: string | null }>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, ENGINE AS engine FROM information_schema.TABLES
      WHERE TABLE_TYPE = 'BASE TABLE' AND (TABLE_SCHEMA, TABLE_NAME) IN (${tables.map(() => '(?, ?)').join(', ')})`,
    tables.flatMap((t) => [t.db, t.table]),
  );
  for (const r of rows) found.set(`${r.db}\u0000${r.t}`, { engine: r.engine });
  return found;
}

export async function precheckSource(client: MySqlClient, scope: PrecheckScope): Promise<CheckResult[]> {
  const conn = await connectionItem(client.cfg, 'srcDbConnection');
  if (conn.result === 'failed') return [conn];
  const out: CheckResult[] = [conn];
  const info = await client.serverInfo();
  out.push(evaluateVersion(info, 'srcDbVersionSupport'));
  const grants = await readGrants(client);
  if (incremental(scope)) {
    out.push(...evaluateBinlog(info.variables));
    const missing = ['REPLICATION SLAVE'].filter((p) => !grants.global.has(p));
    if (!grants.global.has('REPLICATION CLIENT') && !grants.global.has('BINLOG MONITOR')) missing.push(info.flavor === 'mariadb' ? 'BINLOG MONITOR' : 'REPLICATION CLIENT');
    out.push(
      missing.length === 0
        ? result('srcDbPrivilegesIsEnoughForIncr', 'passed')
        : result('srcDbPrivilegesIsEnoughForIncr', 'failed', `The user lacks ${missing.join(', ')} (global), needed to read the binlog.`, `GRANT ${missing.join(', ')} ON *.* TO the migration user.`),
    );
  }
  const visible = await visibleTables(client, scope.tables);
  const absent = scope.tables.filter((t) => !visible.has(`${t.db}\u0000${t.table}`));
  out.push(
    absent.length === 0
      ? result('userSelectObjectsCheck', 'passed')
      : result('userSelectObjectsCheck', 'failed', `${absent.length} selected table(s) do not exist or the user cannot see them.`, 'Check the object selection and the user’s privileges.', absent.map(name)),
  );
  const present = scope.tables.filter((t) => visible.has(`${t.db}\u0000${t.table}`));
  const noSelect = present.filter((t) => !hasOnTable(grants, t, 'SELECT'));
  out.push(
    noSelect.length === 0 && absent.length === 0
      ? result('srcDbPrivilegesIsEnough', 'passed')
      : result(
          'srcDbPrivilegesIsEnough',
          'failed',
          `The user has no SELECT privilege on ${noSelect.length + absent.length} selected table(s).`,
          'GRANT SELECT ON each selected database (or table) TO the migration user.',
          [...noSelect, ...absent].map(name),
        ),
  );
  const readable = present.filter((t) => !noSelect.includes(t));
  const schemas = readable.length ? await readSchema(client, readable) : [];
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
  const otherEngine = present.filter((t) => (visible.get(`${t.db}\u0000${t.table}`)!.engine ?? '').toUpperCase() !== 'INNODB');
  out.push(
    otherEngine.length === 0
      ? result('srcDbExistUnsupportEngineTable', 'passed')
      : result(
          'srcDbExistUnsupportEngineTable',
          incremental(scope) ? 'failed' : 'alarm',
          `${otherEngine.length} table(s) do not use InnoDB (${[...new Set(otherEngine.map((t) => visible.get(`${t.db}\u0000${t.table}`)!.engine ?? 'unknown'))].join(', ')}): they are not transactional, so the copy cannot be consistent with the captured change position.`,
          'Convert them to InnoDB (ALTER TABLE ... ENGINE=InnoDB) or migrate them without incremental sync.',
          otherEngine.map(name),
        ),
  );
  const fks = readable.length
    ? await client.rows<{ db: string; t: string; name: string; rdb: string; rt: string }>(
        `SELECT DISTINCT TABLE_SCHEMA AS db, TABLE_NAME AS t, CONSTRAINT_NAME AS name, REFERENCED_TABLE_SCHEMA AS rdb, REFERENCED_TABLE_NAME AS rt
           FROM information_schema.KEY_COLUMN_USAGE
          WHERE REFERENCED_TABLE_NAME IS NOT NULL AND (TABLE_SCHEMA, TABLE_NAME) IN (${readable.map(() => '(?, ?)').join(', ')})`,
        readable.flatMap((t) => [t.db, t.table]),
      )
    : [];
  const selected = new Set(scope.tables.map((t) => `${t.db}\u0000${t.table}`));
  const dangling = fks.filter((f) => !selected.has(`${f.rdb}\u0000${f.rt}`)).map((f) => `${f.db}.${f.t} (${f.name}) -> ${f.rdb}.${f.rt}`);
  out.push(danglingForeignKeys(result, dangling, 'Select the referenced tables too, or make sure they exist on the target before the foreign keys are created.'));
  return out;
}

export async function precheckTarget(client: MySqlClient, scope: PrecheckScope, sourceTables: TableSchema[]): Promise<CheckResult[]> {
  const conn = await connectionItem(client.cfg, 'dstDbConnection');
  if (conn.result === 'failed') return [conn];
  const out: CheckResult[] = [conn];
  const info = await client.serverInfo();
  out.push(evaluateVersion(info, 'dstDbVersionSupport'));
  const ro = ['read_only', 'super_read_only', 'innodb_read_only'].filter((v) => ['ON', '1'].includes(String(info.variables[v] ?? '').toUpperCase()));
  out.push(
    ro.length === 0
      ? result('dstStatusCheck', 'passed')
      : result('dstStatusCheck', 'failed', `The target is read-only (${ro.join(', ')} = ON).`, `Run SET GLOBAL ${ro[0]}=OFF on the target (it may be a replica), or choose a writable primary.`),
  );
  const dbs = [...new Set([...scope.databases, ...scope.tables.map((t) => t.db)])];
  const existing = new Set(
    dbs.length
      ? (await client.rows<{ n: string }>(`SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (${dbs.map(() => '?').join(', ')})`, dbs)).map((r) => r.n)
      : [],
  );
  const missingDbs = dbs.filter((d) => !existing.has(d));
  out.push(
    missingDbs.length === 0
      ? result('dstDbExistCheck', 'passed')
      : result('dstDbExistCheck', 'alarm', `${missingDbs.length} target database(s) do not exist yet and will be created.`, 'Create them yourself first if they need particular settings.', missingDbs),
  );
  const grants = await readGrants(client);
  const needed = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'ALTER', 'INDEX'];
  const lacking = dbs.map((d) => ({ d, missing: needed.filter((p) => !hasOnDb(grants, d, p)) })).filter((x) => x.missing.length);
  out.push(
    lacking.length === 0
      ? result('dstDbPrivilegesIsEnough', 'passed')
      : result(
          'dstDbPrivilegesIsEnough',
          'failed',
          lacking.map((x) => `${x.d}: missing ${x.missing.join(', ')}`).join('; '),
          `GRANT ${needed.join(', ')} ON each target database TO the migration user.`,
          lacking.map((x) => x.d),
        ),
  );
  const visible = await visibleTables(client, scope.tables);
  const busy: string[] = [];
  const empty: string[] = [];
  for (const t of scope.tables.filter((x) => visible.has(`${x.db}\u0000${x.table}`))) {
    // Unreadable counts as holding rows: we cannot promise it is empty.
    const { rows } = await client.arrays(`SELECT 1 FROM ${qtable(t)} LIMIT 1`).catch(() => ({ rows: [[1]] as unknown[][] }));
    (rows.length ? busy : empty).push(name(t));
  }
  out.push(
    busy.length
      ? result('dstTableNameConflictCheck', 'failed', `${busy.length} target table(s) already exist and hold rows.`, 'Empty or drop them, or map the tables to other names.', [...busy, ...empty])
      : empty.length
        ? result('dstTableNameConflictCheck', 'alarm', `${empty.length} target table(s) already exist (empty); they are kept if their structure matches.`, 'Drop them if the migration should create them.', empty)
        : result('dstTableNameConflictCheck', 'passed'),
  );
  out.push(await charsetCheck(client, sourceTables));
  return out;
}

async function charsetCheck(client: MySqlClient, sourceTables: TableSchema[]): Promise<CheckResult> {
  const collations = new Map<string, string[]>();
  const charsets = new Map<string, string[]>();
  const note = (m: Map<string, string[]>, k: string | undefined, where: string) => {
    if (!k) return;
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(where);
  };
  for (const t of sourceTables) {
    note(collations, t.collation, name(t.ref));
    note(charsets, t.charset, name(t.ref));
    for (const c of t.columns) {
      note(collations, c.collation, `${name(t.ref)}.${c.name}`);
      note(charsets, c.charset, `${name(t.ref)}.${c.name}`);
    }
  }
  if (collations.size === 0 && charsets.size === 0) return result('dbCharacterSetConsistency', 'passed');
  const knownCollations = new Set((await client.rows<{ n: string }>('SELECT COLLATION_NAME AS n FROM information_schema.COLLATIONS')).map((r) => r.n.toLowerCase()));
  // MariaDB 10.10+ lists charset-specific names of the shared uca1400 collations only here.
  const full = await client.rows<{ n: string }>('SELECT FULL_COLLATION_NAME AS n FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY').catch(() => []);
  for (const r of full) knownCollations.add(r.n.toLowerCase());
  const knownCharsets = new Set((await client.rows<{ n: string }>('SELECT CHARACTER_SET_NAME AS n FROM information_schema.CHARACTER_SETS')).map((r) => r.n.toLowerCase()));
  const alias = (c: string) => (c === 'utf8mb3' ? 'utf8' : c === 'utf8' ? 'utf8mb3' : c).toLowerCase();
  const badCharsets = [...charsets.keys()].filter((c) => !knownCharsets.has(c.toLowerCase()) && !knownCharsets.has(alias(c)));
  const badCollations = [...collations.keys()].filter((c) => !knownCollations.has(c.toLowerCase()) && !knownCollations.has(c.toLowerCase().replace(/^utf8mb3_/, 'utf8_')) && !knownCollations.has(c.toLowerCase().replace(/^utf8_/, 'utf8mb3_')));
  if (badCharsets.length === 0 && badCollations.length === 0) return result('dbCharacterSetConsistency', 'passed');
  return result(
    'dbCharacterSetConsistency',
    'failed',
    `The target does not know ${[...badCharsets.map((c) => `character set ${c}`), ...badCollations.map((c) => `collation ${c}`)].join(', ')}, used by the source tables.`,
    'Use a target version that supports them, or change the source columns to a character set and collation both sides support.',
    [...new Set([...badCharsets.flatMap((c) => charsets.get(c)!), ...badCollations.flatMap((c) => collations.get(c)!)])],
  );
}
