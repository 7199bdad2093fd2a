/**
 * The engine contract against MariaDB: a CDC-ready main server, a misconfigured one (fake 5.5
 * version string, STATEMENT binlog, MINIMAL row image, 1-hour binlog retention, read-only), one
 * without binlog, and one that requires TLS.
 */
import mysql from 'mysql2/promise';
import type { CdcPosition, EndpointConfig, TableRef } from '../../lib/engines/engine.js';
import { PRECHECKS } from '../../lib/engines/mysql/precheck.js';
import { startMariaDb, type DbServer } from '../helpers/db-servers.js';
import { engineContract, makeCerts, type EngineHarness, type HarnessContext, type PrecheckCase } from './engine.contract.js';

const q = (name: string) => '`' + name.replace(/`/g, '``') + '`';
const qtable = (ref: TableRef) => `${q(ref.db)}.${q(ref.table)}`;

async function connect(cfg: EndpointConfig, db?: string) {
  const c = await mysql.createConnection({
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database: db,
    multipleStatements: true,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4',
  });
  await c.query("SET time_zone = '+00:00'");
  return c;
}

async function exec(cfg: EndpointConfig, sql: string, db?: string): Promise<void> {
  const c = await connect(cfg, db);
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function query(cfg: EndpointConfig, sql: string, db?: string): Promise<unknown[][]> {
  const c = await connect(cfg, db);
  try {
    const [rows] = await c.query({ sql, rowsAsArray: true });
    return rows as unknown[][];
  } finally {
    await c.end();
  }
}

const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit', 'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection']);

let counter = 0;
const unique = (p: string) => `${p}_${++counter}`;

/** A user with a password and the given GRANT statements (`{u}` stands for the quoted account). */
async function user(cfg: EndpointConfig, name: string, grants: string[] = []): Promise<EndpointConfig> {
  const password = `pw-${name}-Secret1`;
  await exec(cfg, [`CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`, ...grants.map((g) => g.replace('{u}', `'${name}'@'%'`))].join(';\n'));
  return { ...cfg, user: name, password };
}

const scope = (role: 'source' | 'target', tables: TableRef[], taskType: 'FULL_TRANS' | 'FULL_INCR_TRANS' = 'FULL_INCR_TRANS') => ({
  role,
  taskType,
  tables,
  databases: [...new Set(tables.map((t) => t.db))],
});

async function table(cfg: EndpointConfig, db: string, name: string, ddl = '(id int PRIMARY KEY, v int)', engine = 'InnoDB'): Promise<TableRef> {
  await exec(cfg, `CREATE DATABASE IF NOT EXISTS ${q(db)}; CREATE TABLE ${q(db)}.${q(name)} ${ddl} ENGINE=${engine}`);
  return { db, table: name };
}

const precheckCases: PrecheckCase[] = [
  { item: 'srcDbVersionSupport', expect: 'failed', role: 'source', how: 'server started with --version=5.5.1-fake', setup: async (ctx) => ({ config: ctx.endpoint('bad'), scope: scope('source', []) }) },
  { item: 'srcDbBinlogIsOff', expect: 'failed', role: 'source', how: 'server started with --skip-log-bin', setup: async (ctx) => ({ config: ctx.endpoint('nobinlog'), scope: scope('source', []) }) },
  { item: 'srcBinlogFormatCheck', expect: 'failed', role: 'source', how: 'server started with --binlog-format=STATEMENT', setup: async (ctx) => ({ config: ctx.endpoint('bad'), scope: scope('source', []) }) },
  { item: 'srcBinlogRowImageCheck', expect: 'failed', role: 'source', how: 'server started with --binlog-row-image=MINIMAL', setup: async (ctx) => ({ config: ctx.endpoint('bad'), scope: scope('source', []) }) },
  { item: 'srcDbBinlogExpireLogsDays', expect: 'alarm', role: 'source', how: 'server started with --binlog-expire-logs-seconds=3600', setup: async (ctx) => ({ config: ctx.endpoint('bad'), scope: scope('source', []) }) },
  {
    item: 'srcDbPrivilegesIsEnoughForIncr',
    expect: 'failed',
    role: 'source',
    how: 'a user with only GRANT SELECT ON *.* (no REPLICATION SLAVE / BINLOG MONITOR)',
    setup: async (ctx) => ({ config: await user(ctx.main, unique('sel_only'), ['GRANT SELECT ON *.* TO {u}']), scope: scope('source', []) }),
  },
  {
    item: 'userSelectObjectsCheck',
    expect: 'failed',
    role: 'source',
    how: 'a selected table that does not exist',
    setup: async (ctx) => ({ config: ctx.main, scope: scope('source', [{ db: 'mysql', table: 'no_such_table' }]) }),
  },
  {
    item: 'srcDbPrivilegesIsEnough',
    expect: 'failed',
    role: 'source',
    how: 'a user with INSERT but no SELECT on the selected table',
    setup: async (ctx) => {
      const db = unique('pc_nosel');
      const t = await table(ctx.main, db, 't');
      return { config: await user(ctx.main, unique('ins_only'), [`GRANT INSERT ON ${qtable(t)} TO {u}`]), scope: scope('source', [t], 'FULL_TRANS') };
    },
  },
  {
    item: 'srcTableNoPrimaryKeyCheck',
    expect: 'alarm',
    role: 'source',
    how: 'a selected table without a primary or unique key',
    setup: async (ctx) => ({ config: ctx.main, scope: scope('source', [await table(ctx.main, unique('pc_nopk'), 'heap', '(a int, b int)')]) }),
  },
  {
    item: 'srcDbExistUnsupportEngineTable',
    expect: 'failed',
    role: 'source',
    how: 'a selected MyISAM table in a full+incremental task',
    setup: async (ctx) => ({ config: ctx.main, scope: scope('source', [await table(ctx.main, unique('pc_myisam'), 'old', '(id int PRIMARY KEY)', 'MyISAM')]) }),
  },
  {
    item: 'hasForeignKeyOnUnselectedTable',
    expect: 'alarm',
    role: 'source',
    how: 'a selected child table whose foreign key references a parent table that is not selected',
    setup: async (ctx) => {
      const db = unique('pc_fk');
      await exec(ctx.main, `CREATE DATABASE ${q(db)}; CREATE TABLE ${q(db)}.parent (id int PRIMARY KEY); CREATE TABLE ${q(db)}.child (id int PRIMARY KEY, p int, CONSTRAINT fk_parent FOREIGN KEY (p) REFERENCES ${q(db)}.parent (id))`);
      return { config: ctx.main, scope: scope('source', [{ db, table: 'child' }], 'FULL_TRANS') };
    },
  },
  { item: 'dstDbVersionSupport', expect: 'failed', role: 'target', how: 'target server started with --version=5.5.1-fake', setup: async (ctx) => ({ config: ctx.endpoint('bad'), scope: scope('target', []) }) },
  { item: 'dstStatusCheck', expect: 'failed', role: 'target', how: 'target server started with --read-only', setup: async (ctx) => ({ config: ctx.endpoint('bad'), scope: scope('target', []) }) },
  {
    item: 'dstDbExistCheck',
    expect: 'alarm',
    role: 'target',
    how: 'the target database does not exist yet',
    setup: async (ctx) => ({ config: ctx.main, scope: scope('target', [{ db: unique('pc_missing_db'), table: 't' }]) }),
  },
  {
    item: 'dstDbPrivilegesIsEnough',
    expect: 'failed',
    role: 'target',
    how: 'a user with only SELECT on the target database',
    setup: async (ctx) => {
      const db = unique('pc_dst_ro');
      await exec(ctx.main, `CREATE DATABASE ${q(db)}`);
      return { config: await user(ctx.main, unique('dst_sel'), [`GRANT SELECT ON ${q(db)}.* TO {u}`]), scope: scope('target', [{ db, table: 't' }]) };
    },
  },
  {
    item: 'dstTableNameConflictCheck',
    expect: 'failed',
    role: 'target',
    how: 'a target table of the same name that holds a row',
    setup: async (ctx) => {
      const t = await table(ctx.main, unique('pc_conflict'), 't');
      await exec(ctx.main, `INSERT INTO ${qtable(t)} VALUES (1, 1)`);
      return { config: ctx.main, scope: scope('target', [t]) };
    },
  },
  {
    item: 'dbCharacterSetConsistency',
    expect: 'failed',
    role: 'target',
    how: "source columns in MySQL 8's utf8mb4_0900_ai_ci, which MariaDB does not have (schema read for real, collation as MySQL 8 reports it)",
    setup: async (ctx) => {
      const t = await table(ctx.main, unique('pc_charset'), 't', '(id int PRIMARY KEY, name varchar(20))');
      const e = (await import('../../lib/engines/index.js')).openEngine(ctx.main);
      const [schema] = await e.readSchema([t]);
      await e.close();
      const mysql8 = { ...schema!, collation: 'utf8mb4_0900_ai_ci', columns: schema!.columns.map((c) => (c.collation ? { ...c, collation: 'utf8mb4_0900_ai_ci' } : c)) };
      return { config: ctx.main, scope: scope('target', [{ db: unique('pc_charset_dst'), table: 't' }]), sourceTables: [mysql8] };
    },
  },
];

const harness: EngineHarness = {
  kind: 'mysql',
  label: 'MariaDB',
  async start(): Promise<HarnessContext> {
    const certs = makeCerts();
    const tlsArgs = [`--ssl-cert=${certs.cert}`, `--ssl-key=${certs.key}`, `--ssl-ca=${certs.dir}/ca.crt`];
    // One after the other: the harness polls readiness synchronously, so parallel starts only queue up.
    const servers: Record<string, DbServer> = {};
    servers.main = await startMariaDb();
    servers.bad = await startMariaDb({ serverId: 2, extraArgs: ['--version=5.5.1-fake', '--binlog-format=STATEMENT', '--binlog-row-image=MINIMAL', '--binlog-expire-logs-seconds=3600', '--read-only'] });
    servers.nobinlog = await startMariaDb({ binlog: false, serverId: 3 });
    servers.tls = await startMariaDb({ serverId: 4, extraArgs: tlsArgs });
    const endpoint = (name: string, overrides: Partial<EndpointConfig> = {}): EndpointConfig => {
      const s = servers[name]!;
      return { kind: 'mysql', host: s.host, port: s.port, user: s.user, password: s.password, connectTimeoutMs: 5_000, ...overrides };
    };
    // Dynamic in MariaDB; set after start because the harness's readiness probe connects without TLS.
    await exec(endpoint('tls'), "CREATE USER 'tls_user'@'%' IDENTIFIED BY 'tls-Secret-1'; GRANT ALL ON *.* TO 'tls_user'@'%'; SET GLOBAL require_secure_transport = ON");
    (harness as { certs?: typeof certs }).certs = certs;
    return { servers, main: endpoint('main'), endpoint, tmpDirs: [certs.dir] };
  },
  exec,
  query,
  q,
  qtable,
  ref: (db, table) => ({ db, table }),
  async createContainer(cfg, ref) {
    await exec(cfg, `CREATE DATABASE IF NOT EXISTS ${q(ref.db)}`);
  },
  async fillSeries(cfg, ref, n) {
    await exec(cfg, `CREATE TABLE ${qtable(ref)} (id int PRIMARY KEY, v int, s varchar(40)); INSERT INTO ${qtable(ref)} SELECT seq, seq % 97, CONCAT('s-', seq) FROM ${q(ref.db)}.seq_1_to_${n}`);
  },
  async dump(cfg, ref, orderBy) {
    const cols = (await query(cfg, `SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${ref.db.replace(/'/g, "''")}' AND TABLE_NAME = '${ref.table.replace(/'/g, "''")}' ORDER BY ORDINAL_POSITION`)) as [string, string][];
    const select = cols.map(([name, type]) => (BINARY.has(type.toLowerCase()) ? `HEX(${q(name)})` : ['float', 'double'].includes(type.toLowerCase()) ? `CAST(${q(name)} AS DOUBLE)` : `CAST(${q(name)} AS CHAR)`));
    return query(cfg, `SELECT ${select.join(', ')} FROM ${qtable(ref)} ORDER BY ${orderBy.map(q).join(', ')}`);
  },
  async definition(cfg, ref) {
    const [[, ddl]] = (await query(cfg, `SHOW CREATE TABLE ${qtable(ref)}`)) as [[string, string]];
    return ddl.replace(`CREATE TABLE ${q(ref.table)} (`, 'CREATE TABLE <T> (');
  },
  allTypes: { file: 'all-types.sql', table: 'all_types', key: ['id'] },
  hostile: { db: `Db ; --'"%ü`, table: 'Tab`le ; DROP--%"ÜñÍ', columns: ['select', 'Mixed Case ;--%', 'ünï`"\'%'], index: 'idx ; --%`' },
  comparePositions(a: CdcPosition, b: CdcPosition) {
    if (a.kind !== 'mysql' || b.kind !== 'mysql') throw new Error('not a MySQL position');
    return a.file === b.file ? a.pos - b.pos : a.file < b.file ? -1 : 1;
  },
  connectionCases: [
    { name: 'the password is wrong', code: 'DRS.KE0002', setup: async (ctx) => ({ ...(await user(ctx.main, unique('pw_user'))), password: 'wrong-Password-9' }) },
    { name: 'the database does not exist', code: 'DRS.KE0008', setup: async (ctx) => ({ ...ctx.main, database: 'no_such_db' }) },
    {
      name: 'the user has no privilege on the database',
      code: 'DRS.KE0012',
      setup: async (ctx) => {
        await exec(ctx.main, 'CREATE DATABASE IF NOT EXISTS conn_private');
        return { ...(await user(ctx.main, unique('nopriv'))), database: 'conn_private' };
      },
    },
    {
      name: 'the account is locked',
      code: 'DRS.KE0038',
      setup: async (ctx) => {
        const u = await user(ctx.main, unique('locked'));
        await exec(ctx.main, `ALTER USER '${u.user}'@'%' ACCOUNT LOCK`);
        return u;
      },
    },
    { name: 'the server requires TLS (require_secure_transport=ON) and SSL is off', code: 'DRS.KE0010', setup: async (ctx) => ctx.endpoint('tls', { user: 'tls_user', password: 'tls-Secret-1' }) },
    {
      name: "SSL is on but the server's certificate is not signed by the uploaded CA",
      code: 'DRS.KE0022',
      setup: async (ctx) => ctx.endpoint('tls', { user: 'tls_user', password: 'tls-Secret-1', ssl: { enabled: true, ca: (harness as unknown as { certs: { otherCa: string } }).certs.otherCa, verify: true } }),
    },
    {
      name: "SSL is on and the server's certificate verifies against the uploaded CA",
      code: 'success',
      setup: async (ctx) => ctx.endpoint('tls', { user: 'tls_user', password: 'tls-Secret-1', ssl: { enabled: true, ca: (harness as unknown as { certs: { ca: string } }).certs.ca, verify: true } }),
    },
    { name: 'SSL is on but the server has no SSL', code: 'DRS.KE0010', setup: async (ctx) => ({ ...ctx.main, ssl: { enabled: true, verify: false } }) },
  ],
  precheckCases,
  cannotFailForReal: {
    srcDbServerIdCheck: 'MariaDB clamps server_id to 1..4294967295 (--server-id=0 and SET GLOBAL server_id=0 both give 1), so no server here can have server_id=0; evaluateBinlog covers it in test/unit/engines/mysql-engine.test.ts.',
  },
  catalogue: PRECHECKS,
};

engineContract(harness);
