/**
 * MySQL/MariaDB incremental sync on real servers: the binlog reader (zongji) and the applier,
 * MariaDB → MariaDB. The target is always checked against the source by an independent,
 * byte-level dump of both (test/helpers/dumps.ts), not by the code under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CdcPosition, ChangeStream, ChangeTransaction, RowChange, TableMapping, TableRef } from '../../lib/engines/engine.js';
import { FatalEngineError } from '../../lib/engines/engine.js';
import { BinlogType, MySqlApplyState, applyChanges, fromBinlogValue, openChangeStream, prepareCdc, type ApplyOptions } from '../../lib/engines/mysql/cdc.js';
import { MySqlClient } from '../../lib/engines/mysql/connection.js';
import { MySqlEngine } from '../../lib/engines/mysql/index.js';
import { readChunk } from '../../lib/engines/mysql/rows.js';
import { copyColumns } from '../../lib/engines/mysql/schema.js';
import { requireBinaries, startMariaDb, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn, mysqlDump } from '../helpers/dumps.js';

describe('binlog values as the full load reads them', () => {
  it.each([
    [BinlogType.LONGLONG, 1, '1'],
    [BinlogType.LONGLONG, -9007199254740991, '-9007199254740991'],
    [BinlogType.LONGLONG, '18446744073709551615', '18446744073709551615'],
    [BinlogType.YEAR, 1900, 0],
    [BinlogType.YEAR, 2155, 2155],
    [BinlogType.ENUM, undefined, ''],
    [BinlogType.ENUM, 'b', 'b'],
    [BinlogType.LONGLONG, null, null],
    [3, 7, 7],
  ])('type %i: %j → %j', (type, value, expected) => {
    expect(fromBinlogValue(type, value)).toEqual(expected);
  });
});

const run = requireBinaries('mysql');
let src: DbServer;
let dst: DbServer;
let source: MySqlClient;
let target: MySqlClient;

const clientFor = (s: DbServer) => new MySqlClient({ kind: 'mysql', host: s.host, port: s.port, user: s.user, password: s.password, poolSize: 4 });

/** Database-level routing: `shop` → `shop_copy`, same table names. */
const route = (t: TableRef): TableMapping | undefined => (t.db === 'shop' ? { source: t, target: { db: 'shop_copy', table: t.table } } : undefined);
const KEYS: Record<string, string[]> = { orders: ['id'], items: ['order_id', 'line_no'], notes: [], types: ['id'], bulk: ['id'] };
const opts: ApplyOptions = { keyColumns: (t) => KEYS[t.table] ?? [] };

async function sql(s: DbServer, ...statements: string[]): Promise<void> {
  const c = await mysqlConn(s);
  try {
    for (const st of statements) await c.query(st);
  } finally {
    await c.end();
  }
}

async function positionNow(): Promise<Extract<CdcPosition, { kind: 'mysql' }>> {
  return (await prepareCdc(source)) as Extract<CdcPosition, { kind: 'mysql' }>;
}

/**
 * Read whole transactions until the stream has passed `until` (a binlog position taken after the
 * workload). MariaDB may write a Binlog_checkpoint event after the last transaction, which moves
 * `until` past every transaction: a stream that delivered data and then stays quiet for 1.5 s has
 * delivered everything written before `until`.
 */
async function drain(stream: ChangeStream, until: Extract<CdcPosition, { kind: 'mysql' }>, max = { maxTransactions: 100, maxEvents: 5000 }): Promise<ChangeTransaction[]> {
  const out: ChangeTransaction[] = [];
  const deadline = Date.now() + 60_000;
  let quiet = 0;
  for (;;) {
    const got = await stream.next({ ...max, waitMs: 500 });
    out.push(...got);
    quiet = got.length ? 0 : quiet + 1;
    const last = out[out.length - 1]?.position as Extract<CdcPosition, { kind: 'mysql' }> | undefined;
    if (last && (last.file > until.file || (last.file === until.file && last.pos >= until.pos))) return out;
    if (last && last.file === until.file && quiet >= 3) return out;
    if (Date.now() > deadline) throw new Error(`stream did not reach ${until.file}:${until.pos}; last ${last?.file}:${last?.pos}`);
  }
}

async function readAll(from: CdcPosition, tables: TableRef[], until: Extract<CdcPosition, { kind: 'mysql' }>): Promise<ChangeTransaction[]> {
  const stream = await openChangeStream(source, from, tables);
  try {
    return await drain(stream, until);
  } finally {
    await stream.close();
  }
}

async function expectSame(...tables: string[]): Promise<void> {
  for (const t of tables) {
    const [a, b] = await Promise.all([mysqlDump(src, 'shop', t), mysqlDump(dst, 'shop_copy', t)]);
    expect(b, `shop_copy.${t}`).toEqual(a);
  }
}

const shop = (...names: string[]) => names.map((table) => ({ db: 'shop', table }));
const rowChanges = (txs: ChangeTransaction[]) => txs.flatMap((t) => t.changes).filter((c): c is RowChange => c.op !== 'ddl' && c.op !== 'truncate' && c.op !== 'relation');

const SCHEMA = [
  'CREATE TABLE orders (id bigint PRIMARY KEY, customer varchar(64) NOT NULL, total decimal(12,2), status enum(\'new\',\'paid\',\'sent\') NOT NULL DEFAULT \'new\', created datetime(3))',
  'CREATE TABLE items (order_id bigint NOT NULL, line_no int NOT NULL, sku varchar(32), qty int, PRIMARY KEY (order_id, line_no))',
  'CREATE TABLE notes (a int, b varchar(20))',
];

beforeAll(async () => {
  if (!run) return;
  [src, dst] = await Promise.all([startMariaDb({ serverId: 31 }), startMariaDb({ serverId: 32 })]);
  source = clientFor(src);
  target = clientFor(dst);
  await sql(src, 'CREATE DATABASE shop', 'USE shop', ...SCHEMA);
  await sql(dst, 'CREATE DATABASE shop_copy', 'USE shop_copy', ...SCHEMA);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([source?.close(), target?.close()]);
  await Promise.all([src?.stop(), dst?.stop()]);
});

describe.runIf(run)('MariaDB binlog → MariaDB', () => {
  let p0: Extract<CdcPosition, { kind: 'mysql' }>;
  let txs: ChangeTransaction[];

  it('captures whole transactions and the applied target equals the source', async () => {
    p0 = await positionNow();
    expect(p0.file).toMatch(/^binlog\.\d+$/);
    expect(p0.gtid).toMatch(/^\d+-\d+-\d+/);
    await sql(
      src,
      'USE shop',
      "INSERT INTO orders VALUES (1, 'ann', 10.50, 'new', '2024-01-01 10:00:00.125'), (2, 'bob', NULL, 'new', NULL), (3, 'cy', 3.00, 'paid', '2024-02-29 23:59:59.999')",
      "INSERT INTO items VALUES (1, 1, 'a', 1), (1, 2, 'b', 2), (2, 1, 'c', 3)",
      "INSERT INTO notes VALUES (1, 'dup'), (1, 'dup'), (2, NULL), (NULL, NULL)",
      "UPDATE orders SET status = 'paid', total = total + 1 WHERE id = 1",
      'DELETE FROM items WHERE order_id = 2',
      // a new binlog file mid-stream
      'FLUSH BINARY LOGS',
      // primary key change
      'UPDATE orders SET id = 20 WHERE id = 2',
      // a multi-statement transaction, touching three tables
      'START TRANSACTION',
      "INSERT INTO orders VALUES (4, 'dee', 7.25, 'new', NOW(3))",
      "INSERT INTO items VALUES (4, 1, 'x', 9)",
      'UPDATE items SET qty = qty * 10 WHERE order_id = 1',
      "UPDATE notes SET b = 'one' WHERE a = 1 LIMIT 1",
      'DELETE FROM notes WHERE a IS NULL',
      'COMMIT',
      // keyless: delete one of two identical rows
      "DELETE FROM notes WHERE b = 'dup' LIMIT 1",
      "UPDATE items SET line_no = 3 WHERE order_id = 1 AND line_no = 2",
    );
    const end = await positionNow();
    const t0 = performance.now();
    txs = await readAll(p0, shop('orders', 'items', 'notes'), end);
    const readMs = performance.now() - t0;
    // 8 autocommit statements + one explicit transaction, each a whole transaction
    const nonEmpty = txs.filter((t) => t.changes.length > 0);
    expect(nonEmpty).toHaveLength(9);
    const multi = nonEmpty.find((t) => t.changes.length === 6)!;
    expect(multi.changes.map((c) => `${c.op}:${(c as RowChange).table.table}`)).toEqual([
      'insert:orders', 'insert:items', 'update:items', 'update:items', 'update:notes', 'delete:notes',
    ]);
    for (const t of txs) {
      expect(t.commitTime).toBeGreaterThan(Date.now() - 600_000);
      expect(t.receivedAt).toBeGreaterThanOrEqual(t.commitTime - 1000);
    }
    // positions increase (across the rotation), GTID set included
    const positions = txs.map((t) => t.position as { file: string; pos: number });
    expect(new Set(positions.map((x) => x.file)).size).toBe(2);
    const order = (x: { file: string; pos: number }) => `${x.file}:${String(x.pos).padStart(12, '0')}`;
    expect([...positions].sort((a, b) => order(a).localeCompare(order(b)))).toEqual(positions);
    expect(positions[positions.length - 1]!.file).toBe(end.file);
    expect((txs[txs.length - 1]!.position as { gtid?: string }).gtid).toBe(end.gtid);

    const t1 = performance.now();
    const res = await applyChanges(target, txs, route, opts);
    const applyMs = performance.now() - t1;
    expect(res.ddl).toBe(0);
    expect(res.rows).toBe(rowChanges(txs).length);
    console.log(`[cdc-mysql] ${res.rows} row changes: read ${readMs.toFixed(0)} ms, applied ${applyMs.toFixed(0)} ms`);
    await expectSame('orders', 'items', 'notes');
  });

  it('replaying the same transactions converges to the same rows (tables with a key)', async () => {
    await applyChanges(target, txs, route, opts);
    await expectSame('orders', 'items');
    // overlapping replay: the second half, then everything again
    await applyChanges(target, txs.slice(Math.floor(txs.length / 2)), route, opts);
    await applyChanges(target, txs, route, opts);
    await expectSame('orders', 'items');
    // A keyless table cannot tell a replayed insert from a new identical row: its changes are
    // applied at least once (precheck flags such tables). Put it back for the next tests.
    await sql(dst, 'DELETE FROM shop_copy.notes', "INSERT INTO shop_copy.notes SELECT 1, 'one' UNION ALL SELECT 2, NULL");
    await expectSame('notes');
  });

  it('resumes after a transaction in the middle and gets only the later ones', async () => {
    const nonEmpty = txs.filter((t) => t.changes.length > 0);
    const mid = nonEmpty[4]!;
    const end = await positionNow();
    const later = await readAll(mid.position, shop('orders', 'items', 'notes'), end);
    const expected = txs.slice(txs.indexOf(mid) + 1).filter((t) => t.changes.length > 0);
    expect(later.filter((t) => t.changes.length > 0).map((t) => t.position)).toEqual(expected.map((t) => t.position));
    expect(JSON.stringify(rowChanges(later))).toBe(JSON.stringify(rowChanges(expected)));

    // the same from the GTID alone, and from file/pos alone
    const byGtid = await readAll({ ...mid.position, file: 'binlog.999999', pos: 4 } as CdcPosition, shop('orders', 'items', 'notes'), end);
    expect(byGtid.filter((t) => t.changes.length > 0).map((t) => t.position)).toEqual(expected.map((t) => t.position));
    const byFile = await readAll({ kind: 'mysql', file: (mid.position as { file: string }).file, pos: (mid.position as { pos: number }).pos }, shop('orders', 'items', 'notes'), end);
    expect(byFile.filter((t) => t.changes.length > 0).map((t) => (t.position as { pos: number }).pos)).toEqual(expected.map((t) => (t.position as { pos: number }).pos));
  });

  it('applies a row filter: rows moving out of it are deleted, rows moving in are written', async () => {
    const DDL = 'CREATE TABLE filtered (id int PRIMARY KEY, v int, note varchar(10))';
    await sql(src, 'USE shop', DDL);
    await sql(dst, 'USE shop_copy', DDL);
    const p = await positionNow();
    await sql(src, 'USE shop', "INSERT INTO filtered VALUES (1, 1, 'a'), (2, 10, 'b'), (3, 20, 'c')", 'UPDATE filtered SET v = 30 WHERE id = 1', 'UPDATE filtered SET v = 0 WHERE id = 2', 'DELETE FROM filtered WHERE id = 3');
    const got = await readAll(p, shop('filtered'), await positionNow());
    const where = (t: TableRef): TableMapping | undefined => (t.table === 'filtered' ? { source: t, target: { db: 'shop_copy', table: t.table }, where: 'v >= 5' } : undefined);
    await applyChanges(target, got, where, { keyColumns: () => ['id'] });
    const c = await mysqlConn(dst);
    const [rows] = (await c.query('SELECT id, v FROM shop_copy.filtered ORDER BY id')) as unknown as [{ id: number; v: number }[]];
    await c.end();
    expect(rows).toEqual([{ id: 1, v: 30 }]);
  });

  it('filters to the selected tables', async () => {
    const end = await positionNow();
    const only = await readAll(p0, shop('items'), end);
    expect(new Set(rowChanges(only).map((c) => c.table.table))).toEqual(new Set(['items']));
    expect(rowChanges(only)).toHaveLength(rowChanges(txs).filter((c) => c.table.table === 'items').length);
  });

  it('conflict policies: ignore keeps the target row, stop fails on the duplicate key', async () => {
    await sql(dst, "INSERT INTO shop_copy.orders VALUES (100, 'target-only', 1.00, 'new', NULL)");
    const p = await positionNow();
    await sql(src, "INSERT INTO shop.orders VALUES (100, 'from-source', 2.00, 'sent', NULL)");
    const got = await readAll(p, shop('orders'), await positionNow());
    await applyChanges(target, got, route, { ...opts, conflictPolicy: 'ignore' });
    const c = await mysqlConn(dst);
    const [rows] = (await c.query('SELECT customer FROM shop_copy.orders WHERE id = 100')) as unknown as [{ customer: string }[]];
    expect(rows[0]!.customer).toBe('target-only');
    await expect(applyChanges(target, got, route, { ...opts, conflictPolicy: 'stop' })).rejects.toThrow(/existing key.*stop/);
    await applyChanges(target, got, route, { ...opts, conflictPolicy: 'overwrite' });
    const [after] = (await c.query('SELECT customer FROM shop_copy.orders WHERE id = 100')) as unknown as [{ customer: string }[]];
    expect(after[0]!.customer).toBe('from-source');
    await c.end();
    await expectSame('orders');
  });

  it('values of every common type arrive exactly as the full load reads them, and round-trip', async () => {
    const DDL =
      'CREATE TABLE types (id bigint PRIMARY KEY, ub bigint unsigned, i int, ui int unsigned, ti tinyint, uti tinyint unsigned, si smallint, mi mediumint unsigned, ' +
      'f float, dbl double, dec1 decimal(20,6), dec2 decimal(5,0), dt datetime, dt3 datetime(3), dt6 datetime(6), ts timestamp NULL, ts2 timestamp(2) NULL, ' +
      'd date, tm time, tm4 time(4), y year, ch char(10), vc varchar(100), tx text, lt longtext, bl blob, bn binary(4), vb varbinary(10), b1 bit(1), b12 bit(12), ' +
      "e enum('a','b','c'), st set('x','y','z'), j json, lat varchar(20) CHARACTER SET latin1, u8 varchar(20) CHARACTER SET utf8mb3, g geometry NULL, pt point NULL, uu uuid NULL, ip inet6 NULL)";
    await sql(src, 'USE shop', DDL);
    await sql(dst, 'USE shop_copy', DDL);
    const p = await positionNow();
    await sql(
      src,
      "SET SESSION sql_mode = ''",
      "SET time_zone = '+05:30'",
      'USE shop',
      `INSERT INTO types VALUES (1, 18446744073709551615, -2147483648, 4294967295, -128, 255, -32768, 16777215, 1.1, 2.2000000000000002, '-12345678901234.123456', 99999,
        '2024-02-29 23:59:59', '2024-01-01 00:00:00.123', '1000-01-01 00:00:00.000001', '2024-06-01 12:00:00', '2038-01-19 08:44:07.99', '0000-00-00', '-838:59:59', '12:34:56.7891', 2155,
        'abc  ', 'héllo ✓ 😀 \\' " \\\\', 'long text', REPEAT('é', 20000), x'00ff10', x'0102', x'00', b'1', b'101010101010', 'b', 'x,z', '{"a": [1, 2.5, "x"], "b": null}',
        'café', 'ümlaut', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4326), POINT(3,4), '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1')`,
      "INSERT INTO types (id, y, e, st, dec1, j, ts, f, dbl) VALUES (2, 0, '', '', '0.5', '12', '1970-01-01 05:30:01', -0.0, 1e308), (9007199254740993, 1901, NULL, NULL, '-0.000001', '\"s\"', NULL, 3.4e38, -1e-300)",
      "INSERT INTO types (id) VALUES (-9223372036854775808), (9223372036854775807)",
      "UPDATE types SET vc = 'updated', tm = '00:00:00', b12 = b'0', ts = '2030-01-01 00:00:00' WHERE id = 2",
    );
    const got = await readAll(p, shop('types'), await positionNow());
    // every insert's after image equals the full load's reading of the row (for rows not updated later)
    const cols = await copyColumns(source, { db: 'shop', table: 'types' });
    const pages: unknown[][] = [];
    for await (const page of readChunk(source, { id: 'x', table: { db: 'shop', table: 'types' }, keyColumns: ['id'], estimatedRows: 0 }, { pageRows: 100 }, cols)) pages.push(...page.rows);
    const byId = new Map(pages.map((r) => [String(r[0]), r]));
    const changes = rowChanges(got);
    const finalImage = new Map<string, unknown[]>();
    for (const c of changes) if (c.after) finalImage.set(String(c.after[0]), c.after);
    expect(finalImage.size).toBe(5);
    for (const [id, image] of finalImage) {
      const full = byId.get(id)!;
      expect(changes[0]!.columns).toEqual(cols.map((c) => c.name));
      for (let i = 0; i < image.length; i++) expect([id, cols[i]!.name, image[i]]).toEqual([id, cols[i]!.name, full[i]]);
    }
    await applyChanges(target, got, route, opts);
    await expectSame('types');
  });

  it('leaves generated columns to the target', async () => {
    const DDL = 'CREATE TABLE gen (id int PRIMARY KEY, a int, v int AS (a * 2) VIRTUAL, s int AS (a + 1) STORED, n int AUTO_INCREMENT UNIQUE)';
    await sql(src, 'USE shop', DDL);
    await sql(dst, 'USE shop_copy', DDL);
    const p = await positionNow();
    await sql(src, 'USE shop', 'INSERT INTO gen (id, a) VALUES (1, 1), (2, 2), (3, 3)', 'UPDATE gen SET a = a * 10 WHERE id > 1', 'DELETE FROM gen WHERE id = 3', 'UPDATE gen SET id = 4 WHERE id = 2');
    const got = await readAll(p, shop('gen'), await positionNow());
    await applyChanges(target, got, route, { keyColumns: () => [] }); // keys from the target's primary key
    await applyChanges(target, got, route, { keyColumns: () => [] });
    await expectSame('gen');
  });

  it('follows DDL mid-stream: ADD COLUMN, CREATE INDEX, RENAME TABLE, TRUNCATE, DROP TABLE, CREATE TABLE', async () => {
    // rows are decoded with the definition they were written with, even after later DDL
    await sql(src, 'SET GLOBAL binlog_row_metadata = FULL');
    try {
      await ddlMidStream();
    } finally {
      await sql(src, 'SET GLOBAL binlog_row_metadata = NO_LOG');
    }
  });

  async function ddlMidStream(): Promise<void> {
    const p = await positionNow();
    await sql(
      src,
      'USE shop',
      "INSERT INTO orders VALUES (50, 'before-ddl', 1.00, 'new', NULL)",
      'ALTER TABLE orders ADD COLUMN note varchar(40) NULL AFTER customer, ADD COLUMN `odd ``col` int DEFAULT 7',
      "INSERT INTO orders (id, customer, note, total) VALUES (51, 'after-ddl', 'has a note', 2.00)",
      "UPDATE orders SET note = 'set later' WHERE id = 50",
      'CREATE INDEX ix_customer ON orders (customer)',
      'CREATE TABLE `we``ird` (id int PRIMARY KEY, v varchar(10))',
      "INSERT INTO `we``ird` VALUES (1, 'w')",
      'RENAME TABLE items TO order_items',
      "INSERT INTO order_items VALUES (51, 1, 'after-rename', 5)",
      'TRUNCATE TABLE notes',
      "INSERT INTO notes VALUES (9, 'after-truncate')",
      'DROP TABLE `we``ird`',
    );
    const end = await positionNow();
    const got = await readAll(p, shop('orders', 'items', 'notes', 'we`ird'), end);
    const ddl = got.flatMap((t) => t.changes).filter((c) => c.op === 'ddl');
    expect(ddl.map((d) => (d as { statement: string }).statement.split(' ').slice(0, 2).join(' '))).toEqual([
      'ALTER TABLE', 'CREATE INDEX', 'CREATE TABLE', 'RENAME TABLE', 'TRUNCATE TABLE', 'DROP TABLE',
    ]);
    // every DDL is a transaction of its own
    for (const t of got) if (t.changes.some((c) => c.op === 'ddl')) expect(t.changes).toHaveLength(1);
    // the renamed table is followed
    expect(rowChanges(got).some((c) => c.table.table === 'order_items')).toBe(true);

    const state = new MySqlApplyState();
    const res = await applyChanges(target, got, route, opts, state);
    expect(res.ddl).toBe(6);
    await expectSame('orders', 'order_items', 'notes');
    const c = await mysqlConn(dst);
    const [idx] = (await c.query("SHOW INDEX FROM shop_copy.orders WHERE Key_name = 'ix_customer'")) as unknown as [unknown[]];
    expect(idx.length).toBe(1);
    const [tables] = (await c.query("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'shop_copy' ORDER BY 1")) as unknown as [{ t: string }[]];
    expect(tables.map((r) => r.t)).toContain('order_items');
    expect(tables.map((r) => r.t)).not.toContain('items');
    expect(tables.map((r) => r.t)).not.toContain('we`ird');
    await c.end();

    // replaying the DDL and rows again converges (already-applied DDL is recognised)
    const again = await applyChanges(target, got, route, opts, new MySqlApplyState());
    expect(again.rows).toBeGreaterThan(0);
    await expectSame('orders', 'order_items', 'notes');
  }

  it('a DDL it cannot map fails with a FatalEngineError naming the statement', async () => {
    await sql(src, 'USE shop', 'CREATE TABLE pt (id int PRIMARY KEY) PARTITION BY HASH(id) PARTITIONS 2', 'CREATE TABLE ex (id int PRIMARY KEY)');
    await sql(dst, 'USE shop_copy', 'CREATE TABLE pt (id int PRIMARY KEY) PARTITION BY HASH(id) PARTITIONS 2', 'CREATE TABLE ex (id int PRIMARY KEY)');
    const p = await positionNow();
    await sql(src, 'USE shop', 'ALTER TABLE pt EXCHANGE PARTITION p0 WITH TABLE ex');
    const got = await readAll(p, shop('pt', 'ex'), await positionNow());
    const err = await applyChanges(target, got, route, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalEngineError);
    expect((err as Error).message).toContain('ALTER TABLE pt EXCHANGE PARTITION p0 WITH TABLE ex');
    // statement-based DML and a table outside the job
    const sbr = { position: p, commitTime: 0, receivedAt: 0, changes: [{ op: 'ddl' as const, db: 'shop', statement: "INSERT INTO orders VALUES (1, 'x', 1, 'new', NULL)" }] };
    await expect(applyChanges(target, [sbr], route, opts)).rejects.toThrow(/statement-based DML/);
    const outside = { ...sbr, changes: [{ op: 'ddl' as const, db: 'other', statement: 'ALTER TABLE t ADD c int' }] };
    await expect(applyChanges(target, [outside], route, opts)).resolves.toEqual({ rows: 0, ddl: 0 });
  });

  it('without FULL row metadata, rows of a table dropped since fail the stream loudly', async () => {
    await sql(src, 'USE shop', 'CREATE TABLE gone (id int PRIMARY KEY, v int)');
    const p = await positionNow();
    await sql(src, 'USE shop', 'INSERT INTO gone VALUES (1, 1)', 'DROP TABLE gone');
    const stream = await openChangeStream(source, p, shop('gone'));
    try {
      const err = await (async () => {
        for (let i = 0; i < 20; i++) await stream.next({ maxTransactions: 10, maxEvents: 1000, waitMs: 250 });
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FatalEngineError);
      expect((err as Error).message).toMatch(/binlog_row_metadata=FULL/);
    } finally {
      await stream.close();
    }
  });

  it('the engine class delegates prepareCdc, openChangeStream, releaseCdc and applyChanges', async () => {
    const cfg = { kind: 'mysql' as const, host: src.host, port: src.port, user: src.user, password: src.password };
    const s = new MySqlEngine(cfg);
    const t = new MySqlEngine({ ...cfg, port: dst.port });
    try {
      const p = await s.prepareCdc('engine', shop('orders'));
      await sql(src, "INSERT INTO shop.orders (id, customer) VALUES (200, 'via-engine')");
      const stream = await s.openChangeStream(p, shop('orders'));
      const got = await drain(stream, await positionNow());
      await stream.acknowledge(got[got.length - 1]!.position);
      await stream.close();
      expect(await t.applyChanges(got, route, opts)).toEqual({ rows: 1, ddl: 0 });
      await s.releaseCdc(p);
      await expectSame('orders');
    } finally {
      await Promise.all([s.close(), t.close()]);
    }
  });

  it('applies a bulk stream with a small buffer (backpressure) and reports throughput', async () => {
    await sql(src, 'USE shop', 'CREATE TABLE bulk (id int PRIMARY KEY, a varchar(64), b int, c datetime)');
    await sql(dst, 'USE shop_copy', 'CREATE TABLE bulk (id int PRIMARY KEY, a varchar(64), b int, c datetime)');
    const p = await positionNow();
    const c = await mysqlConn(src);
    const N = 40_000;
    for (let i = 0; i < N; i += 1000) {
      const rows = Array.from({ length: 1000 }, (_, k) => [i + k + 1, `row-${i + k + 1}`, (i + k) % 97, '2024-01-01 00:00:00']);
      await c.query('INSERT INTO shop.bulk VALUES ?', [rows]);
    }
    await c.query('UPDATE shop.bulk SET b = b + 1 WHERE id % 4 = 0');
    await c.query('DELETE FROM shop.bulk WHERE id % 10 = 0');
    await c.end();
    const end = await positionNow();
    const stream = await openChangeStream(source, p, shop('bulk'), { maxBufferedEvents: 2000 });
    let events = 0;
    let applyMs = 0;
    const t0 = performance.now();
    try {
      for (;;) {
        const got = await stream.next({ maxTransactions: 50, maxEvents: 5000, waitMs: 1000 });
        if (!got.length) continue;
        const t1 = performance.now();
        const r = await applyChanges(target, got, route, opts);
        applyMs += performance.now() - t1;
        events += r.rows;
        const last = got[got.length - 1]!.position as { pos: number };
        if (last.pos >= end.pos) break;
      }
    } finally {
      await stream.close();
    }
    const totalMs = performance.now() - t0;
    expect(events).toBe(N + N / 4 + N / 10);
    console.log(
      `[cdc-mysql] bulk: ${events} row changes in ${(totalMs / 1000).toFixed(2)} s end to end (${Math.round(events / (totalMs / 1000))} events/s), ` +
        `apply ${(applyMs / 1000).toFixed(2)} s (${Math.round(events / (applyMs / 1000))} events/s)`,
    );
    await expectSame('bulk');
  });

  describe('a batch is sent as few multi-statement queries', () => {
    /** Values that must survive client-side escaping byte for byte. */
    const TRICKY = [
      "it's", 'say "hi"', 'back\\slash', 'ends with \\', "\\'", "''", 'nul\0inside', '\0', '\0\\\0', 'ctrl-z \x1a', 'tab\tnew\nline\rcr\b',
      '?', '??', '? OR 1=1', ';', "'; DROP TABLE mix_a; --", '/* c */ --', '`tick`', '%_', 'é ü ß ñ', '😀🎉👩‍👩‍👧', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'e\u0301', '\u2028\u2029', '中文字符',
    ];
    const BYTES = [Buffer.from([0x00]), Buffer.from([0x00, 0x5c, 0x27, 0x22, 0x1a, 0x00]), Buffer.from([0xff, 0x80, 0x5c]), Buffer.from('\\0', 'latin1'), Buffer.alloc(0)];
    const MIX = [
      'CREATE TABLE mix_a (id int PRIMARY KEY, u varchar(40) NULL UNIQUE, t text, b varbinary(64), j json, d decimal(12,3), dt datetime(6), bits bit(10))',
      'CREATE TABLE mix_b (a int, b varchar(40) COLLATE utf8mb4_bin, v longblob, PRIMARY KEY (a, b))',
      'CREATE TABLE mix_c (x int, y varchar(80))',
    ];
    let got: ChangeTransaction[];
    /** Count the queries sent on the target's multi-statement connection during `fn`. */
    async function countingQueries<T>(fn: () => Promise<T>): Promise<{ result: T; queries: number }> {
      const original = target.withBatchConnection.bind(target);
      let queries = 0;
      target.withBatchConnection = (use) =>
        original((conn, discard) => {
          const query = conn.query;
          conn.query = ((...args: Parameters<typeof query>) => (queries++, query.apply(conn, args))) as typeof query;
          return use(conn, discard).finally(() => (conn.query = query));
        });
      try {
        return { result: await fn(), queries };
      } finally {
        target.withBatchConnection = original;
      }
    }

    it('every operation over several tables, interleaved, in one call: the target equals the source', async () => {
      await sql(src, 'USE shop', ...MIX);
      await sql(dst, 'USE shop_copy', ...MIX);
      const p = await positionNow();
      const c = await mysqlConn(src, 'shop');
      const big = (i: number) => Buffer.alloc(300_000, i % 251);
      try {
        for (let i = 0; i < 60; i++) {
          const s = TRICKY[i % TRICKY.length]!;
          const b = BYTES[i % BYTES.length]!;
          await c.query('START TRANSACTION');
          await c.query('INSERT INTO mix_a VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [i, `u${i}`, s, b, JSON.stringify({ s, i, n: null }), (i * 1.5).toFixed(3), '2024-02-29 23:59:59.123456', i % 1024]);
          await c.query('INSERT INTO mix_b VALUES (?, ?, ?)', [i % 7, s.slice(0, 40), i % 20 === 0 ? big(i) : b]);
          await c.query('INSERT INTO mix_c VALUES (?, ?), (?, ?)', [i % 5, s, i % 5, s]);
          if (i > 0) await c.query('UPDATE mix_a SET t = CONCAT(t, ?), b = ?, j = JSON_SET(j, "$.u", ?) WHERE id = ?', [s, BYTES[(i + 1) % BYTES.length], s, i - 1]);
          if (i % 3 === 0) await c.query('DELETE FROM mix_b WHERE a = ? LIMIT 1', [(i + 1) % 7]);
          if (i % 4 === 1) await c.query('DELETE FROM mix_c WHERE x = ? LIMIT 1', [i % 5]);
          if (i % 5 === 2) await c.query('UPDATE mix_a SET id = id + 1000 WHERE id = ?', [i - 1]);
          // a secondary unique value handed from one row to another: only right in source order
          if (i % 6 === 3) {
            await c.query('UPDATE mix_a SET u = NULL WHERE id = ?', [i]);
            await c.query('UPDATE mix_a SET u = ? WHERE id = ?', [`u${i}`, i - 2]);
          }
          await c.query('COMMIT');
        }
        await c.query('UPDATE mix_c SET y = CONCAT(y, ?) WHERE x = 1 LIMIT 1', ['\\\0\'']);
        await c.query('DELETE FROM mix_a WHERE id % 7 = 0');
      } finally {
        await c.end();
      }
      got = await readAll(p, shop('mix_a', 'mix_b', 'mix_c'), await positionNow());
      const changes = rowChanges(got);
      expect(new Set(changes.map((x) => x.op))).toEqual(new Set(['insert', 'update', 'delete']));
      const { result, queries } = await countingQueries(() => applyChanges(target, got, route, opts));
      expect(result.rows).toBe(changes.length);
      await expectSame('mix_a', 'mix_b', 'mix_c');
      // 3.3 MB of large values split the batch in several queries; hundreds of statements still take only a few
      expect(queries).toBeGreaterThan(1);
      expect(queries).toBeLessThan(20);
      console.log(`[cdc-mysql] mixed batch: ${changes.length} row changes over 3 tables in ${queries} queries`);
    });

    it('replays of the mixed batch converge (tables with a key)', async () => {
      await applyChanges(target, got, route, opts);
      await applyChanges(target, got.slice(Math.floor(got.length / 3)), route, opts);
      await expectSame('mix_a', 'mix_b');
    });

    it('a failing statement in the middle rolls the whole batch back, and the next batch applies', async () => {
      await sql(dst, "INSERT INTO shop_copy.mix_a (id, u) VALUES (5000, 'target-only')");
      const p = await positionNow();
      await sql(src, 'USE shop', "INSERT INTO mix_c VALUES (1, 'before the conflict')", "INSERT INTO mix_b VALUES (99, 'x', 'y')", "INSERT INTO mix_a (id, u) VALUES (5000, 'from-source')", "INSERT INTO mix_c VALUES (2, 'after the conflict')");
      const batch = await readAll(p, shop('mix_a', 'mix_b', 'mix_c'), await positionNow());
      const err = await applyChanges(target, batch, route, { ...opts, conflictPolicy: 'stop' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FatalEngineError);
      expect((err as Error).message).toMatch(/into `shop_copy`.`mix_a` hit an existing key.*stop/);
      const state = async () => {
        const c = await mysqlConn(dst, 'shop_copy');
        try {
          const [[row]] = (await c.query(
            "SELECT (SELECT COUNT(*) FROM mix_c WHERE y LIKE '% the conflict') AS c, (SELECT COUNT(*) FROM mix_b WHERE a = 99) AS b, (SELECT u FROM mix_a WHERE id = 5000) AS u",
          )) as unknown as [[{ c: string; b: string; u: string }]];
          return { c: Number(row.c), b: Number(row.b), u: row.u };
        } finally {
          await c.end();
        }
      };
      expect(await state()).toEqual({ c: 0, b: 0, u: 'target-only' });
      await applyChanges(target, batch, route, opts);
      expect(await state()).toEqual({ c: 2, b: 1, u: 'from-source' });
      await expectSame('mix_a', 'mix_b');
    });
  });
});
