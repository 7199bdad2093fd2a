/**
 * The engine contract against PostgreSQL: a CDC-ready main server with SSL on and a pg_hba.conf
 * that asks one user for a password, refuses one plain-text user and one user outright, and a
 * misconfigured one (wal_level=replica, one replication slot already taken, no WAL senders).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { CdcPosition, EndpointConfig, TableRef } from '../../lib/engines/engine.js';
import { openEngine } from '../../lib/engines/index.js';
import { PRECHECKS } from '../../lib/engines/postgres/precheck.js';
import { startPostgres, type DbServer } from '../helpers/db-servers.js';
import { engineContract, makeCerts, type EngineHarness, type HarnessContext, type PrecheckCase } from './engine.contract.js';

const q = (name: string) => '"' + name.replace(/"/g, '""') + '"';
const schemaOf = (ref: TableRef) => ref.schema ?? 'public';
const qtable = (ref: TableRef) => `${q(schemaOf(ref))}.${q(ref.table)}`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function withClient<T>(cfg: EndpointConfig, db: string | undefined, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password, database: db ?? cfg.database ?? 'postgres' });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.query("SET TimeZone = 'UTC'");
    return await use(c);
  } finally {
    await c.end();
  }
}

const exec = (cfg: EndpointConfig, sql: string, db?: string) => withClient(cfg, db, async (c) => void (await c.query(sql)));
const query = (cfg: EndpointConfig, sql: string, db?: string) => withClient(cfg, db, async (c) => (await c.query({ text: sql, rowMode: 'array' })).rows as unknown[][]);

let counter = 0;
const unique = (p: string) => `${p}_${++counter}`;

async function createDb(cfg: EndpointConfig, db: string, options = ''): Promise<void> {
  const [exists] = await query(cfg, `SELECT 1 FROM pg_database WHERE datname = ${lit(db)}`);
  if (!exists) await exec(cfg, `CREATE DATABASE ${q(db)} ${options}`);
}

/** A login role; `sql` runs after it exists (`{u}` is the quoted role). */
async function role(cfg: EndpointConfig, name: string, sql: string[] = [], db?: string): Promise<EndpointConfig> {
  await exec(cfg, `CREATE ROLE ${q(name)} LOGIN PASSWORD ${lit(`pw-${name}`)}`);
  for (const s of sql) await exec(cfg, s.replace(/\{u\}/g, q(name)), db);
  return { ...cfg, user: name, password: `pw-${name}`, ...(db ? { database: db } : {}) };
}

const scope = (role: 'source' | 'target', tables: TableRef[], taskType: 'FULL_TRANS' | 'FULL_INCR_TRANS' = 'FULL_INCR_TRANS') => ({
  role,
  taskType,
  tables,
  databases: [...new Set(tables.map((t) => t.db))],
});

/** A table in a fresh database; returns its ref and an endpoint on that database. */
async function table(cfg: EndpointConfig, ddl: string, name = 't'): Promise<{ ref: TableRef; cfg: EndpointConfig }> {
  const db = unique('pc');
  await createDb(cfg, db);
  const ref = { db, schema: 'public', table: name };
  await exec(cfg, `CREATE TABLE ${qtable(ref)} ${ddl}`, db);
  return { ref, cfg: { ...cfg, database: db } };
}

const precheckCases: PrecheckCase[] = [
  { item: 'srcWalLevelCheck', expect: 'failed', role: 'source', how: 'server started with wal_level=replica', setup: async (ctx) => ({ config: ctx.endpoint('bad'), scope: scope('source', []) }) },
  {
    item: 'srcReplicationSlotCheck',
    expect: 'failed',
    role: 'source',
    how: 'max_replication_slots=1 and that slot already created',
    setup: async (ctx) => ({ config: ctx.endpoint('bad'), scope: scope('source', []) }),
  },
  { item: 'srcWalSenderCheck', expect: 'failed', role: 'source', how: 'server started with max_wal_senders=0', setup: async (ctx) => ({ config: ctx.endpoint('bad'), scope: scope('source', []) }) },
  {
    item: 'srcDbPrivilegesIsEnoughForIncr',
    expect: 'failed',
    role: 'source',
    how: 'a LOGIN role without REPLICATION',
    setup: async (ctx) => ({ config: await role(ctx.main, unique('plain')), scope: scope('source', []) }),
  },
  {
    item: 'userSelectObjectsCheck',
    expect: 'failed',
    role: 'source',
    how: 'a selected table that does not exist',
    setup: async (ctx) => ({ config: ctx.main, scope: scope('source', [{ db: 'postgres', schema: 'public', table: 'no_such_table' }]) }),
  },
  {
    item: 'srcDbPrivilegesIsEnough',
    expect: 'failed',
    role: 'source',
    how: 'a role that was never granted SELECT on the selected table',
    setup: async (ctx) => {
      const t = await table(ctx.main, '(id int PRIMARY KEY)');
      return { config: { ...(await role(ctx.main, unique('nosel'))), database: t.ref.db }, scope: scope('source', [t.ref], 'FULL_TRANS') };
    },
  },
  {
    item: 'srcReplicaIdentityCheck',
    expect: 'failed',
    role: 'source',
    how: 'a table with REPLICA IDENTITY NOTHING',
    setup: async (ctx) => {
      const t = await table(ctx.main, '(id int PRIMARY KEY)');
      await exec(ctx.main, `ALTER TABLE ${qtable(t.ref)} REPLICA IDENTITY NOTHING`, t.ref.db);
      return { config: t.cfg, scope: scope('source', [t.ref]) };
    },
  },
  {
    item: 'srcTableNoPrimaryKeyCheck',
    expect: 'alarm',
    role: 'source',
    how: 'a selected table without a primary or unique key',
    setup: async (ctx) => {
      const t = await table(ctx.main, '(a int, b int)');
      return { config: t.cfg, scope: scope('source', [t.ref]) };
    },
  },
  {
    item: 'srcUnloggedTableCheck',
    expect: 'failed',
    role: 'source',
    how: 'a selected UNLOGGED table in a full+incremental task',
    setup: async (ctx) => {
      const t = await table(ctx.main, '(id int PRIMARY KEY)');
      await exec(ctx.main, `ALTER TABLE ${qtable(t.ref)} SET UNLOGGED`, t.ref.db);
      return { config: t.cfg, scope: scope('source', [t.ref]) };
    },
  },
  {
    item: 'srcUnsupportedTypeCheck',
    expect: 'failed',
    role: 'source',
    how: 'a column whose type is a domain',
    setup: async (ctx) => {
      const db = unique('pc_domain');
      await createDb(ctx.main, db);
      await exec(ctx.main, 'CREATE DOMAIN public.positive AS integer CHECK (VALUE > 0); CREATE TABLE public.t (id int PRIMARY KEY, n public.positive)', db);
      return { config: { ...ctx.main, database: db }, scope: scope('source', [{ db, schema: 'public', table: 't' }]) };
    },
  },
  {
    item: 'hasForeignKeyOnUnselectedTable',
    expect: 'alarm',
    role: 'source',
    how: 'a selected child table whose foreign key references a parent table that is not selected',
    setup: async (ctx) => {
      const parent = await table(ctx.main, '(id int PRIMARY KEY)', 'parent');
      await exec(ctx.main, 'CREATE TABLE public.child (id int PRIMARY KEY, p int CONSTRAINT fk_parent REFERENCES public.parent (id))', parent.ref.db);
      return { config: parent.cfg, scope: scope('source', [{ db: parent.ref.db, schema: 'public', table: 'child' }], 'FULL_TRANS') };
    },
  },
  {
    item: 'dstStatusCheck',
    expect: 'failed',
    role: 'target',
    how: 'a role with default_transaction_read_only = on',
    setup: async (ctx) => ({ config: await role(ctx.main, unique('readonly'), ['ALTER ROLE {u} SET default_transaction_read_only = on']), scope: scope('target', []) }),
  },
  {
    item: 'dstDbExistCheck',
    expect: 'alarm',
    role: 'target',
    how: 'the target database does not exist yet',
    setup: async (ctx) => ({ config: ctx.main, scope: scope('target', [{ db: unique('pc_missing'), schema: 'public', table: 't' }]) }),
  },
  {
    item: 'dstDbPrivilegesIsEnough',
    expect: 'failed',
    role: 'target',
    how: 'a role without CREATE on the target schema (PostgreSQL 15 public schema) or database',
    setup: async (ctx) => {
      const db = unique('pc_dst_priv');
      await createDb(ctx.main, db);
      return { config: await role(ctx.main, unique('nocreate')), scope: scope('target', [{ db, schema: 'public', table: 't' }]) };
    },
  },
  {
    item: 'dstTableNameConflictCheck',
    expect: 'failed',
    role: 'target',
    how: 'a target table of the same name that holds a row',
    setup: async (ctx) => {
      const t = await table(ctx.main, '(id int PRIMARY KEY)');
      await exec(ctx.main, `INSERT INTO ${qtable(t.ref)} VALUES (1)`, t.ref.db);
      return { config: ctx.main, scope: scope('target', [t.ref]) };
    },
  },
  {
    item: 'dbCharacterSetConsistency',
    expect: 'failed',
    role: 'target',
    how: 'a UTF8 source table and a target database created with ENCODING LATIN1',
    setup: async (ctx) => {
      const src = await table(ctx.main, '(id int PRIMARY KEY, name text)');
      const e = openEngine(ctx.main);
      const schemas = await e.readSchema([src.ref]);
      await e.close();
      const db = unique('pc_latin1');
      await createDb(ctx.main, db, "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
      return { config: ctx.main, scope: scope('target', [{ db, schema: 'public', table: 't' }]), sourceTables: schemas };
    },
  },
];

const HBA = `local all all trust
host all pw_user 127.0.0.1/32 scram-sha-256
hostnossl all ssl_only 127.0.0.1/32 reject
host all blocked_user 127.0.0.1/32 reject
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
`;

let certs: ReturnType<typeof makeCerts>;

const harness: EngineHarness = {
  kind: 'postgresql',
  label: 'PostgreSQL',
  async start(): Promise<HarnessContext> {
    certs = makeCerts('postgres');
    const servers: Record<string, DbServer> = {};
    servers.main = await startPostgres({ settings: { ssl: 'on', ssl_cert_file: certs.cert, ssl_key_file: certs.key } });
    servers.bad = await startPostgres({ settings: { wal_level: 'replica', max_replication_slots: '1', max_wal_senders: '0' } });
    const endpoint = (name: string, overrides: Partial<EndpointConfig> = {}): EndpointConfig => {
      const s = servers[name]!;
      return { kind: 'postgresql', host: s.host, port: s.port, user: s.user, password: s.password, database: 'postgres', connectTimeoutMs: 5_000, ...overrides };
    };
    writeFileSync(path.join(servers.main.dataDir, 'data', 'pg_hba.conf'), HBA);
    await exec(endpoint('main'), "SELECT pg_reload_conf(); CREATE ROLE pw_user LOGIN PASSWORD 'right-Password-1'; CREATE ROLE ssl_only LOGIN; CREATE ROLE blocked_user LOGIN; CREATE ROLE cannot_login NOLOGIN");
    await exec(endpoint('bad'), "SELECT pg_create_physical_replication_slot('taken')");
    return { servers, main: endpoint('main'), endpoint, tmpDirs: [certs.dir] };
  },
  exec,
  query,
  q,
  qtable,
  ref: (db, table, schema = 'public') => ({ db, schema, table }),
  async createContainer(cfg, ref) {
    await createDb(cfg, ref.db);
    await exec(cfg, `CREATE SCHEMA IF NOT EXISTS ${q(schemaOf(ref))}`, ref.db);
  },
  async fillSeries(cfg, ref, n) {
    await exec(cfg, `CREATE TABLE ${qtable(ref)} (id int PRIMARY KEY, v int, s varchar(40)); INSERT INTO ${qtable(ref)} SELECT g, g % 97, 's-' || g FROM generate_series(1, ${n}) g`, ref.db);
  },
  async dump(cfg, ref, orderBy) {
    return query(cfg, `SELECT "__row__"::text FROM ${qtable(ref)} AS "__row__" ORDER BY ${orderBy.map(q).join(', ')}`, ref.db);
  },
  async definition(cfg, ref) {
    return withClient(cfg, ref.db, async (c) => {
      await c.query(`SET search_path = ${q(schemaOf(ref))}`);
      const oid = `(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)`;
      const v = [schemaOf(ref), ref.table];
      const lines: string[] = [];
      const rel = await c.query({ text: `SELECT relpersistence, relreplident, obj_description(oid, 'pg_class') FROM pg_class WHERE oid = ${oid}`, values: v, rowMode: 'array' });
      lines.push(`table ${JSON.stringify(rel.rows[0])}`);
      const cols = await c.query({
        text: `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                      CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END, col_description(a.attrelid, a.attnum)
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE a.attrelid = ${oid} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        values: v,
        rowMode: 'array',
      });
      for (const r of cols.rows) lines.push(`column ${JSON.stringify(r)}`);
      const cons = await c.query({ text: `SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ${oid} ORDER BY conname`, values: v, rowMode: 'array' });
      for (const r of cons.rows) lines.push(`constraint ${JSON.stringify(r)}`);
      const idx = await c.query({ text: `SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = ${oid} ORDER BY ic.relname`, values: v, rowMode: 'array' });
      for (const r of idx.rows) lines.push(`index ${JSON.stringify(r)}`);
      const seqs = await c.query({
        text: `SELECT sc.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, d.deptype, ps.last_value
                 FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S' JOIN pg_sequence s ON s.seqrelid = sc.oid
                 JOIN pg_namespace sn ON sn.oid = sc.relnamespace LEFT JOIN pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = sc.relname
                WHERE d.refobjid = ${oid} AND d.deptype IN ('a', 'i') ORDER BY sc.relname`,
        values: v,
        rowMode: 'array',
      });
      for (const r of seqs.rows) lines.push(`sequence ${JSON.stringify(r)}`);
      // Names derived from the table follow it; the schema-qualified table in index definitions is the table itself.
      const quoted = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : q(s));
      return lines
        .join('\n')
        .split(JSON.stringify(`${quoted(schemaOf(ref))}.${quoted(ref.table)}`).slice(1, -1))
        .join('<S>.<T>')
        .split(JSON.stringify(ref.table.replace(/"/g, '""')).slice(1, -1))
        .join('<T>')
        .split(JSON.stringify(ref.table).slice(1, -1))
        .join('<T>');
    });
  },
  allTypes: { file: 'all-types.sql', table: 'all_types', key: ['id'] },
  hostile: { db: `Db ; --'"%ü`, schema: 'Sch"ema ; --%', table: 'Tab`le ; DROP--%"ÜñÍ', columns: ['select', 'Mixed Case ;--%', 'ünï`"\'%'], index: 'idx ; --%"' },
  comparePositions(a: CdcPosition, b: CdcPosition) {
    if (a.kind !== 'postgresql' || b.kind !== 'postgresql') throw new Error('not a PostgreSQL position');
    const n = (lsn: string) => {
      const [hi, lo] = lsn.split('/');
      return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
    };
    const d = n(a.lsn) - n(b.lsn);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  },
  connectionCases: [
    { name: 'the password is wrong', code: 'DRS.KE0002', setup: async (ctx) => ({ ...ctx.main, user: 'pw_user', password: 'wrong-Password-9' }) },
    { name: 'the role does not exist', code: 'DRS.KE0002', setup: async (ctx) => ({ ...ctx.main, user: 'no_such_role' }) },
    { name: 'the database does not exist', code: 'DRS.KE0008', setup: async (ctx) => ({ ...ctx.main, database: 'no_such_db' }) },
    {
      name: 'the user has no CONNECT privilege on the database',
      code: 'DRS.KE0012',
      setup: async (ctx) => {
        await createDb(ctx.main, 'conn_private');
        await exec(ctx.main, 'REVOKE CONNECT ON DATABASE conn_private FROM PUBLIC');
        return { ...(await role(ctx.main, unique('noconnect'))), database: 'conn_private' };
      },
    },
    { name: 'the role may not log in', code: 'DRS.KE0007', setup: async (ctx) => ({ ...ctx.main, user: 'cannot_login' }) },
    { name: 'pg_hba.conf rejects the user whatever the transport', code: 'DRS.KE0006', setup: async (ctx) => ({ ...ctx.main, user: 'blocked_user' }) },
    { name: 'pg_hba.conf only lets the user in over SSL and SSL is off', code: 'DRS.KE0010', setup: async (ctx) => ({ ...ctx.main, user: 'ssl_only' }) },
    {
      name: "SSL is on but the server's certificate is not signed by the uploaded CA",
      code: 'DRS.KE0022',
      setup: async (ctx) => ({ ...ctx.main, user: 'ssl_only', ssl: { enabled: true, ca: certs.otherCa, verify: true } }),
    },
    { name: "SSL is on and the server's certificate verifies against the uploaded CA", code: 'success', setup: async (ctx) => ({ ...ctx.main, user: 'ssl_only', ssl: { enabled: true, ca: certs.ca, verify: true } }) },
    { name: 'SSL is on but the server has no SSL', code: 'DRS.KE0010', setup: async (ctx) => ctx.endpoint('bad', { ssl: { enabled: true, verify: false } }) },
  ],
  precheckCases,
  cannotFailForReal: {
    srcDbVersionSupport: 'Only PostgreSQL 15 is installed and server_version is compiled in; evaluateVersion covers older versions in test/unit/engines/postgres-engine.test.ts.',
    dstDbVersionSupport: 'As srcDbVersionSupport.',
  },
  catalogue: PRECHECKS,
};

engineContract(harness);
