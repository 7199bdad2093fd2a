/**
 * PostgreSQL incremental sync on a real server: logical decoding (pgoutput) read as whole
 * transactions and applied to a second database on the same server. The target is always
 * checked against the source by an independent dump of both (test/helpers/dumps.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CdcPosition, ChangeStream, ChangeTransaction, RelationChange, RowChange, TableMapping, TableRef } from '../../lib/engines/engine.js';
import { FatalEngineError } from '../../lib/engines/engine.js';
import { PgClient } from '../../lib/engines/postgres/connection.js';
import { PostgresEngine } from '../../lib/engines/postgres/index.js';
import { applyChanges, cdcIdentifier, lsnToBigInt, normalizeLsn, openChangeStream, prepareCdc, releaseCdc, type ApplyOptions } from '../../lib/engines/postgres/cdc.js';
import { readChunk } from '../../lib/engines/postgres/rows.js';
import { copyColumns } from '../../lib/engines/postgres/schema.js';
import { requireBinaries, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { pgClient, pgDump } from '../helpers/dumps.js';

describe('LSNs and names', () => {
  it('normalises and compares LSNs', () => {
    expect(normalizeLsn('00000000/016B3748')).toBe('0/16B3748');
    expect(lsnToBigInt('1/0') > lsnToBigInt('0/FFFFFFFF')).toBe(true);
    expect(() => lsnToBigInt('nope')).toThrow(FatalEngineError);
  });
  it('makes slot and publication names from any job name', () => {
    expect(cdcIdentifier('job_1')).toBe('drs_job_1');
    expect(cdcIdentifier('Job #1')).toMatch(/^drs_job__1_[0-9a-f]{10}$/);
    expect(cdcIdentifier('Job #1')).not.toBe(cdcIdentifier('job #1'));
    expect(cdcIdentifier('x'.repeat(200)).length).toBeLessThanOrEqual(63);
  });
});

const run = requireBinaries('postgresql');
let server: DbServer;
let client: PgClient;

const route = (t: TableRef): TableMapping | undefined => (t.db === 'shop' ? { source: t, target: { db: 'shop_copy', schema: t.schema, table: t.table } } : undefined);
const KEYS: Record<string, string[]> = { orders: ['id'], items: ['order_id', 'line_no'], notes: [], docs: ['id'], types: ['id'], bulk: ['id'] };
const opts: ApplyOptions = { keyColumns: (t) => KEYS[t.table] ?? [] };
const shop = (...names: string[]): TableRef[] => names.map((table) => ({ db: 'shop', schema: 'public', table }));
const rowChanges = (txs: ChangeTransaction[]) => txs.flatMap((t) => t.changes).filter((c): c is RowChange => c.op === 'insert' || c.op === 'update' || c.op === 'delete');
const nonEmpty = (txs: ChangeTransaction[]) => txs.filter((t) => t.changes.some((c) => c.op !== 'relation'));

async function sql(db: string, ...statements: string[]): Promise<void> {
  const c = await pgClient(server, db);
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

/** One query on a fresh connection, always closed. */
async function query(db: string, text: string, values: unknown[] = []): Promise<Record<string, any>[]> {
  const c = await pgClient(server, db);
  try {
    return (await c.query(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** Read until `count` transactions with changes arrived, then make sure nothing else follows for a moment. */
async function drain(stream: ChangeStream, count: number, quietMs = 300): Promise<ChangeTransaction[]> {
  const out: ChangeTransaction[] = [];
  const deadline = Date.now() + 60_000;
  while (nonEmpty(out).length < count) {
    out.push(...(await stream.next({ maxTransactions: 100, maxEvents: 5000, waitMs: 500 })));
    if (Date.now() > deadline) throw new Error(`got ${nonEmpty(out).length} of ${count} transactions`);
  }
  out.push(...(await stream.next({ maxTransactions: 100, maxEvents: 5000, waitMs: quietMs })));
  return out;
}

async function readAll(from: CdcPosition, tables: TableRef[], count: number): Promise<ChangeTransaction[]> {
  const stream = await openChangeStream(client, from, tables);
  try {
    return await drain(stream, count);
  } finally {
    await stream.close();
  }
}

async function expectSame(...tables: string[]): Promise<void> {
  for (const t of tables) {
    const [a, b] = await Promise.all([pgDump(server, 'shop', 'public', t), pgDump(server, 'shop_copy', 'public', t)]);
    expect(b, `shop_copy.${t}`).toEqual(a);
  }
}

const SCHEMA = [
  'CREATE TABLE orders (id bigint PRIMARY KEY, customer varchar(64) NOT NULL, total numeric(12,2), created timestamp(3))',
  'CREATE TABLE items (order_id bigint NOT NULL, line_no int NOT NULL, sku text, qty int, PRIMARY KEY (order_id, line_no))',
  'CREATE TABLE notes (a int, b varchar(20))',
  'CREATE TABLE docs (id int PRIMARY KEY, n int, small text, compressible text, incompressible text)',
  'ALTER TABLE docs ALTER COLUMN incompressible SET STORAGE EXTERNAL',
];

beforeAll(async () => {
  if (!run) return;
  server = await startPostgres();
  await sql('postgres', 'CREATE DATABASE shop', 'CREATE DATABASE shop_copy');
  // Session defaults a naive reader would pick up; the stream and the pool pin their own.
  // (set on both databases, so the independent dumps read both sides with the same settings)
  for (const db of ['shop', 'shop_copy']) {
    await sql('postgres', `ALTER DATABASE ${db} SET TimeZone = 'Asia/Kolkata'`, `ALTER DATABASE ${db} SET DateStyle = 'SQL, DMY'`, `ALTER DATABASE ${db} SET IntervalStyle = 'sql_standard'`, `ALTER DATABASE ${db} SET extra_float_digits = 0`);
  }
  await sql('shop', ...SCHEMA);
  await sql('shop_copy', ...SCHEMA);
  client = new PgClient({ kind: 'postgresql', host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres', poolSize: 4 });
}, 120_000);

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

describe.runIf(run)('PostgreSQL logical decoding → PostgreSQL', () => {
  let p0: Extract<CdcPosition, { kind: 'postgresql' }>;
  let txs: ChangeTransaction[];

  it('prepares a publication and a slot, idempotently, and REPLICA IDENTITY FULL only where there is no key', async () => {
    p0 = (await prepareCdc(client, 'Job #1', shop('orders', 'items', 'notes', 'docs'))) as typeof p0;
    expect(p0.slot).toBe(cdcIdentifier('Job #1'));
    expect(p0.publication).toBe(p0.slot);
    const again = await prepareCdc(client, 'Job #1', shop('orders', 'items', 'notes', 'docs'));
    expect(again).toEqual(p0);
    const r = await query('shop', "SELECT relname, relreplident::text AS ident FROM pg_class WHERE relname IN ('orders', 'items', 'notes', 'docs') ORDER BY 1");
    expect(Object.fromEntries(r.map((x) => [x.relname, x.ident]))).toEqual({ docs: 'd', items: 'd', notes: 'f', orders: 'd' });
    const pub = await query('shop', 'SELECT tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1', [p0.publication]);
    expect(pub.map((x) => x.tablename)).toEqual(['docs', 'items', 'notes', 'orders']);
  });

  it('captures whole transactions and the applied target equals the source', async () => {
    await sql(
      'shop',
      "INSERT INTO orders VALUES (1, 'ann', 10.50, '2024-01-01 10:00:00.125'), (2, 'bob', NULL, NULL), (3, 'cy', 3.00, '2024-02-29 23:59:59.999')",
      "INSERT INTO items VALUES (1, 1, 'a', 1), (1, 2, 'b', 2), (2, 1, 'c', 3)",
      "INSERT INTO notes VALUES (1, 'dup'), (1, 'dup'), (2, NULL), (NULL, NULL)",
      'UPDATE orders SET total = total + 1 WHERE id = 1',
      'DELETE FROM items WHERE order_id = 2',
      'UPDATE orders SET id = 20 WHERE id = 2',
      `BEGIN;
       INSERT INTO orders VALUES (4, 'dee', 7.25, now());
       INSERT INTO items VALUES (4, 1, 'x', 9);
       UPDATE items SET qty = qty * 10 WHERE order_id = 1;
       UPDATE notes SET b = 'one' WHERE ctid = (SELECT ctid FROM notes WHERE a = 1 LIMIT 1);
       DELETE FROM notes WHERE a IS NULL;
       COMMIT`,
      "DELETE FROM notes WHERE ctid = (SELECT ctid FROM notes WHERE b = 'dup' LIMIT 1)",
      'UPDATE items SET line_no = 3 WHERE order_id = 1 AND line_no = 2',
    );
    const t0 = performance.now();
    txs = await readAll(p0, shop('orders', 'items', 'notes', 'docs'), 9);
    const readMs = performance.now() - t0;
    expect(nonEmpty(txs)).toHaveLength(9);
    const multi = txs.find((t) => rowChanges([t]).length === 6)!;
    expect(rowChanges([multi]).map((c) => `${c.op}:${c.table.table}`)).toEqual(['insert:orders', 'insert:items', 'update:items', 'update:items', 'update:notes', 'delete:notes']);
    // the first relation message per table comes as a RelationChange, before its rows
    const rel = txs.flatMap((t) => t.changes).filter((c): c is RelationChange => c.op === 'relation');
    expect(rel.map((r) => r.table.table).sort()).toEqual(['items', 'notes', 'orders']);
    expect(rel.find((r) => r.table.table === 'orders')!.columns).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'customer', type: 'character varying(64)' },
      { name: 'total', type: 'numeric(12,2)' },
      { name: 'created', type: 'timestamp(3) without time zone' },
    ]);
    // the key change carries the old key; the keyless table's old row is complete
    const pk = rowChanges(txs).find((c) => c.op === 'update' && c.table.table === 'orders' && c.after![0] === '20')!;
    expect(pk.before![0]).toBe('2');
    const keyless = rowChanges(txs).find((c) => c.op === 'delete' && c.table.table === 'notes')!;
    expect(keyless.before).toEqual([null, null]);
    const lsns = txs.map((t) => lsnToBigInt((t.position as { lsn: string }).lsn));
    expect([...lsns].sort((a, b) => (a < b ? -1 : 1))).toEqual(lsns);
    for (const t of nonEmpty(txs)) expect(Math.abs(t.commitTime - Date.now())).toBeLessThan(120_000);

    const t1 = performance.now();
    const res = await applyChanges(client, txs, route, opts);
    const applyMs = performance.now() - t1;
    expect(res.rows).toBe(rowChanges(txs).length);
    console.log(`[cdc-postgres] ${res.rows} row changes: read ${readMs.toFixed(0)} ms, applied ${applyMs.toFixed(0)} ms`);
    await expectSame('orders', 'items', 'notes');
  });

  it('replaying the same transactions converges to the same rows (tables with a key)', async () => {
    await applyChanges(client, txs, route, opts);
    await applyChanges(client, txs.slice(Math.floor(txs.length / 2)), route, opts);
    await applyChanges(client, txs, route, opts);
    await expectSame('orders', 'items');
    // A keyless table's inserts are applied at least once (precheck flags it); put it back.
    await sql('shop_copy', 'DELETE FROM notes', "INSERT INTO notes VALUES (1, 'one'), (2, NULL)");
    await expectSame('notes');
  });

  it('resumes after a transaction in the middle and gets only the later ones', async () => {
    const list = nonEmpty(txs);
    const mid = list[4]!;
    const later = await readAll(mid.position, shop('orders', 'items', 'notes', 'docs'), list.length - 5);
    expect(nonEmpty(later).map((t) => t.position)).toEqual(list.slice(5).map((t) => t.position));
    expect(JSON.stringify(rowChanges(later))).toBe(JSON.stringify(rowChanges(list.slice(5))));
  });

  it('redelivers until acknowledged, and not after', async () => {
    // keepalives alone (here every second) never confirm what was received but not acknowledged
    const idle = await openChangeStream(client, p0, shop('orders', 'items', 'notes', 'docs'), { keepaliveSeconds: 1 });
    await drain(idle, 9);
    await new Promise((r) => setTimeout(r, 2500));
    await idle.close();
    const [slot] = await query('shop', 'SELECT confirmed_flush_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1', [p0.slot]);
    expect(slot!.l).toBe(p0.lsn);
    const all = await readAll(p0, shop('orders', 'items', 'notes', 'docs'), 9);
    expect(nonEmpty(all).map((t) => t.position)).toEqual(nonEmpty(txs).map((t) => t.position));
    const last = txs[txs.length - 1]!.position as { lsn: string };
    const stream = await openChangeStream(client, p0, shop('orders', 'items', 'notes', 'docs'));
    await drain(stream, 9);
    await stream.acknowledge(txs[4]!.position);
    await stream.acknowledge(txs[txs.length - 1]!.position);
    await stream.acknowledge(txs[0]!.position); // an older one never moves it back
    await stream.close();
    const deadline = Date.now() + 10_000;
    let confirmed = '';
    while (Date.now() < deadline) {
      confirmed = (await query('shop', 'SELECT confirmed_flush_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1', [p0.slot]))[0]!.l;
      if (confirmed === last.lsn) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(confirmed).toBe(last.lsn);
    await sql('shop', "INSERT INTO orders VALUES (5, 'after-ack', 1, NULL)");
    const after = await readAll(p0, shop('orders'), 1);
    expect(rowChanges(after).map((c) => c.after![1])).toEqual(['after-ack']);
    await applyChanges(client, after, route, opts);
    await expectSame('orders');
  });

  it('TOAST: an update of another column keeps large values (compressible and not) on the target', async () => {
    const p = (await prepareCdc(client, 'toast', shop('docs', 'notes'))) as typeof p0;
    await sql(
      'shop',
      // stored out of line: ~190 kB that compresses (EXTENDED), 64 kB of hex that pglz cannot compress (EXTERNAL)
      "INSERT INTO docs SELECT 1, 0, 'small', (SELECT string_agg(md5(g::text) || repeat('-', 64), '') FROM generate_series(1, 2000) g), (SELECT string_agg(md5((g * 7)::text), '') FROM generate_series(1, 2000) g)",
      "INSERT INTO docs VALUES (2, 0, 'small', repeat('abc', 100000), 'x')",
      'UPDATE docs SET n = n + 1',
      "UPDATE docs SET small = 'changed', n = n + 1 WHERE id = 1",
      "INSERT INTO notes VALUES (7, 'seven')",
      "UPDATE notes SET a = 8 WHERE a = 7",
    );
    const [size] = await query('shop', 'SELECT pg_column_size(compressible) AS cs, octet_length(compressible) AS cl, pg_column_size(incompressible) AS ns, octet_length(incompressible) AS nl FROM docs WHERE id = 1');
    // compressed yet still larger than a page's TOAST threshold; the other uncompressed
    expect(Number(size!.cs)).toBeLessThan(Number(size!.cl));
    expect(Number(size!.cs)).toBeGreaterThan(2048);
    expect(Number(size!.ns)).toBe(Number(size!.nl));
    const got = await readAll(p, shop('docs', 'notes'), 6);
    const updates = rowChanges(got).filter((r) => r.op === 'update' && r.table.table === 'docs');
    expect(updates.some((u) => u.unchangedColumns?.includes('compressible') && u.unchangedColumns.includes('incompressible'))).toBe(true);
    for (const u of updates) for (const col of u.unchangedColumns ?? []) expect(u.after![u.columns.indexOf(col)]).toBeNull();
    await applyChanges(client, got, route, opts);
    await expectSame('docs', 'notes');
    const [r] = await query('shop_copy', 'SELECT octet_length(compressible) AS l FROM docs WHERE id = 1');
    expect(Number(r!.l)).toBe(Number(size!.cl));
    console.log(`[cdc-postgres] TOAST: compressible value ${size!.cl} bytes stored as ${size!.cs}, incompressible stored as ${size!.ns}`);
    await releaseCdc(client, p);
  });

  it('applies a row filter: rows moving out of it are deleted, rows moving in are written', async () => {
    const DDL = 'CREATE TABLE filtered (id int PRIMARY KEY, v int, note text)';
    await sql('shop', DDL);
    await sql('shop_copy', DDL);
    const p = (await prepareCdc(client, 'filtered', shop('filtered'))) as typeof p0;
    await sql('shop', "INSERT INTO filtered VALUES (1, 1, 'a'), (2, 10, 'b'), (3, 20, 'c')", 'UPDATE filtered SET v = 30 WHERE id = 1', 'UPDATE filtered SET v = 0 WHERE id = 2', 'DELETE FROM filtered WHERE id = 3');
    const got = await readAll(p, shop('filtered'), 4);
    const where = (t: TableRef): TableMapping | undefined => (t.table === 'filtered' ? { source: t, target: { db: 'shop_copy', schema: 'public', table: t.table }, where: 'v >= 5' } : undefined);
    await applyChanges(client, got, where, { keyColumns: () => ['id'] });
    expect(await query('shop_copy', 'SELECT id, v FROM filtered ORDER BY id')).toEqual([{ id: 1, v: 30 }]);
    await releaseCdc(client, p);
  });

  it('leaves generated columns to the target and keeps identity values', async () => {
    const DDL = 'CREATE TABLE gen (id int PRIMARY KEY, seq int GENERATED ALWAYS AS IDENTITY, a int, g int GENERATED ALWAYS AS (a * 2) STORED)';
    await sql('shop', DDL);
    await sql('shop_copy', DDL);
    const p = (await prepareCdc(client, 'gen', shop('gen'))) as typeof p0;
    await sql('shop', 'INSERT INTO gen (id, a) VALUES (1, 1), (2, 2), (3, 3)', 'UPDATE gen SET a = a * 10 WHERE id > 1', 'DELETE FROM gen WHERE id = 3', 'UPDATE gen SET id = 4 WHERE id = 2');
    const got = await readAll(p, shop('gen'), 4);
    // keys from the target's primary key
    await applyChanges(client, got, route, { keyColumns: () => [] });
    await applyChanges(client, got, route, { keyColumns: () => [] });
    await expectSame('gen');
    await releaseCdc(client, p);
  });

  it('TRUNCATE, ADD COLUMN through a relation message, DROP COLUMN refused naming the table', async () => {
    const p = (await prepareCdc(client, 'ddl', shop('orders', 'items'))) as typeof p0;
    await sql(
      'shop',
      'TRUNCATE items',
      "INSERT INTO items VALUES (9, 1, 'after-truncate', 1)",
      'ALTER TABLE orders ADD COLUMN note text, ADD COLUMN "Odd ""col""" numeric(5,1)',
      "INSERT INTO orders VALUES (6, 'with-note', 1, NULL, 'a note', 2.5)",
      "UPDATE orders SET note = 'noted' WHERE id = 1",
    );
    const got = await readAll(p, shop('orders', 'items'), 4);
    expect(got.flatMap((t) => t.changes).some((c) => c.op === 'truncate')).toBe(true);
    const res = await applyChanges(client, got, route, opts);
    expect(res.ddl).toBe(3); // truncate + two columns
    await expectSame('orders', 'items');
    // replaying converges, the columns already exist
    await applyChanges(client, got, route, opts);
    await expectSame('orders', 'items');

    const p2 = (await prepareCdc(client, 'ddl-drop', shop('orders', 'items'))) as typeof p0;
    await sql('shop', 'ALTER TABLE orders DROP COLUMN note', "INSERT INTO orders VALUES (7, 'no-note', 1, NULL, 1.0)");
    const dropped = await readAll(p2, shop('orders'), 1);
    const err = await applyChanges(client, dropped, route, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalEngineError);
    expect((err as Error).message).toMatch(/"public"\."orders".*column note is no longer in the source table/);
    // once the target follows by hand, the same transactions apply
    await sql('shop_copy', 'ALTER TABLE orders DROP COLUMN note');
    await applyChanges(client, dropped, route, opts);
    await expectSame('orders');
    await releaseCdc(client, p2);
    await releaseCdc(client, p);
  });

  it('values of every common type arrive exactly as the full load reads them, and round-trip', async () => {
    const DDL = [
      "DO $$ BEGIN CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); EXCEPTION WHEN duplicate_object THEN NULL; END $$",
      `CREATE TABLE types (id int PRIMARY KEY, t_small smallint, t_int integer, t_big bigint, t_num numeric(20,6), t_num_any numeric, t_real real, t_double double precision, t_bool boolean,
        t_char char(10), t_varchar varchar(200), t_text text, t_bytea bytea, t_date date, t_time time(6), t_timetz timetz, t_ts timestamp(6), t_tstz timestamptz, t_interval interval,
        t_json json, t_jsonb jsonb, t_uuid uuid, t_int_arr integer[], t_text_arr text[], t_inet inet, t_cidr cidr, t_mac macaddr, t_mood mood, t_range int4range, t_point point,
        t_bits bit varying(16), t_money money, t_xml xml, t_tsv tsvector)`,
    ];
    await sql('shop', ...DDL);
    await sql('shop_copy', ...DDL);
    const p = (await prepareCdc(client, 'types', shop('types'))) as typeof p0;
    await sql(
      'shop',
      `INSERT INTO types VALUES
       (1, -32768, -2147483648, -9223372036854775808, -12345678901234.123456, 3.14159265358979323846264338327950288419716939937510, 1.1, 2.718281828459045, true,
        'abc', 'héllo wörld 😀', repeat('long text ', 50), '\\x00ff10ab', '2024-02-29', '23:59:59.999999', '12:00:00+05:30', '2024-01-01 12:34:56.123456', '2024-01-01 12:34:56.123456+02',
        '1 year 2 mons 3 days 04:05:06.789', '{"a": [1, 2, {"b": null}]}', '{"ü": "😀", "n": 1.50}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,2,NULL}', '{"a","b c",NULL}',
        '192.168.1.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', 'happy', '[1,10)', '(1.5,-2)', B'1011', 12.34, '<a>x</a>', 'the quick brown fox'),
       (2, ${Array(33).fill('NULL').join(', ')}),
       (3, 0, 0, 0, 0, 'NaN', '-Infinity', 1e-300, false, '', '', '', '\\x', '0001-01-01', '00:00:00', '00:00:00+00', '0001-01-01 00:00:00', '1970-01-01 00:00:00+00', '-1 days +00:00:00.000001',
        '[]', '{}', '00000000-0000-0000-0000-000000000000', '{}', '{}', '::1', '::/0', '00:00:00:00:00:00', 'sad', 'empty', '(0,0)', B'', 0, '', '')`,
      "UPDATE types SET t_tstz = '2030-06-01 00:00:00-07', t_real = 3.4e38, t_interval = '-5 minutes' WHERE id = 3",
    );
    const got = await readAll(p, shop('types'), 2);
    const cols = await copyColumns(client, { db: 'shop', schema: 'public', table: 'types' });
    const full: unknown[][] = [];
    for await (const page of readChunk(client, { id: 'x', table: { db: 'shop', schema: 'public', table: 'types' }, keyColumns: ['id'], estimatedRows: 0 }, { pageRows: 100 }, cols)) full.push(...page.rows);
    const finalImage = new Map<string, unknown[]>();
    for (const c of rowChanges(got)) finalImage.set(String(c.after![0]), c.after!);
    expect(rowChanges(got)[0]!.columns).toEqual(cols);
    for (const row of full) {
      const image = finalImage.get(String(row[0]))!;
      for (let i = 0; i < cols.length; i++) expect([row[0], cols[i], image[i]]).toEqual([row[0], cols[i], row[i]]);
    }
    // the session defaults of the source database (Asia/Kolkata, SQL DateStyle) did not leak in
    expect(finalImage.get('1')![cols.indexOf('t_tstz')]).toBe('2024-01-01 10:34:56.123456+00');
    await applyChanges(client, got, route, opts);
    await expectSame('types');
    await releaseCdc(client, p);
  });

  it('applies a bulk stream with a small buffer (backpressure) and reports throughput', async () => {
    await sql('shop', 'CREATE TABLE bulk (id int PRIMARY KEY, a varchar(64), b int, c timestamp)');
    await sql('shop_copy', 'CREATE TABLE bulk (id int PRIMARY KEY, a varchar(64), b int, c timestamp)');
    const p = (await prepareCdc(client, 'bulk', shop('bulk'))) as typeof p0;
    const N = 40_000;
    const statements: string[] = [];
    for (let i = 0; i < N; i += 1000) statements.push(`INSERT INTO bulk SELECT g, 'row-' || g, g % 97, timestamp '2024-01-01' FROM generate_series(${i + 1}, ${i + 1000}) g`);
    await sql('shop', ...statements, 'UPDATE bulk SET b = b + 1 WHERE id % 4 = 0', 'DELETE FROM bulk WHERE id % 10 = 0');
    const stream = await openChangeStream(client, p, shop('bulk'), { maxBufferedEvents: 2000 });
    let events = 0;
    let txCount = 0;
    let applyMs = 0;
    const t0 = performance.now();
    try {
      while (txCount < N / 1000 + 2) {
        const got = await stream.next({ maxTransactions: 5, maxEvents: 5000, waitMs: 1000 });
        if (!got.length) continue;
        const t1 = performance.now();
        const r = await applyChanges(client, got, route, opts);
        applyMs += performance.now() - t1;
        await stream.acknowledge(got[got.length - 1]!.position);
        events += r.rows;
        txCount += nonEmpty(got).length;
      }
    } finally {
      await stream.close();
    }
    const totalMs = performance.now() - t0;
    expect(events).toBe(N + N / 4 + N / 10);
    console.log(
      `[cdc-postgres] bulk: ${events} row changes in ${(totalMs / 1000).toFixed(2)} s end to end (${Math.round(events / (totalMs / 1000))} events/s), ` +
        `apply ${(applyMs / 1000).toFixed(2)} s (${Math.round(events / (applyMs / 1000))} events/s)`,
    );
    await expectSame('bulk');
    await releaseCdc(client, p);
  });

  it('the engine class delegates prepareCdc, openChangeStream, releaseCdc and applyChanges', async () => {
    const e = new PostgresEngine({ kind: 'postgresql', host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres' });
    try {
      const p = await e.prepareCdc('engine', shop('orders'));
      await sql('shop', "INSERT INTO orders (id, customer) VALUES (200, 'via-engine')");
      const stream = await e.openChangeStream(p, shop('orders'));
      const got = await drain(stream, 1);
      await stream.acknowledge(got[got.length - 1]!.position);
      await stream.close();
      expect(await e.applyChanges(got, route, opts)).toEqual({ rows: 1, ddl: 0 });
      await e.releaseCdc(p);
      await expectSame('orders');
    } finally {
      await e.close();
    }
  });

  it('releaseCdc drops the slot and the publication, and may be called again', async () => {
    const stream = await openChangeStream(client, p0, shop('orders'));
    // still streaming: release waits for the stream to let go
    const released = releaseCdc(client, p0);
    await new Promise((r) => setTimeout(r, 300));
    await stream.close();
    await released;
    await releaseCdc(client, p0);
    const slots = await query('shop', 'SELECT slot_name FROM pg_replication_slots');
    const pubs = await query('shop', 'SELECT pubname FROM pg_publication');
    expect(slots.map((r) => r.slot_name)).not.toContain(p0.slot);
    expect(pubs.map((r) => r.pubname)).not.toContain(p0.publication);
    await expect(openChangeStream(client, p0, shop('orders'))).rejects.toThrow(/does not exist/);
  });

  describe('a batch is sent as few multi-statement queries', () => {
    /** Text that must survive being written as literals, character for character. */
    const TRICKY = [
      "it's", "''", "\\'", 'back\\slash', 'ends with \\', "E'\\x41'", '$1', '$$ $tag$ $', '?', ';', "'); DROP TABLE mix_a; --", '/* c */ --', '"quoted"', '%_',
      'tab\tnew\nline\rcr', 'é ü ß ñ', '😀🎉👩‍👩‍👧', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'e\u0301', '\u2028\u2029', '中文字符', '\u0001\u001f\u007f', 'NULL', '',
    ];
    const MIX = [
      'CREATE TABLE mix_p (id int PRIMARY KEY, name text)',
      `CREATE TABLE mix_a (id int PRIMARY KEY, seq int GENERATED ALWAYS AS IDENTITY, u text UNIQUE, txt text, b bytea, j jsonb, arr text[], big text, ts timestamptz)`,
      // an immediate foreign key: parent and child rows must arrive in source order
      'CREATE TABLE mix_b (a int REFERENCES mix_p (id), b text, v bytea, PRIMARY KEY (a, b))',
      'CREATE TABLE mix_c (x int, y text)',
    ];
    const tables = shop('mix_p', 'mix_a', 'mix_b', 'mix_c');
    let p: typeof p0;
    let got: ChangeTransaction[];
    let fresh: PgClient;

    /** Count the queries the applier sends during `fn` (on every client it acquires). */
    async function countingQueries<T>(c: PgClient, fn: () => Promise<T>): Promise<{ result: T; queries: number }> {
      const acquire = c.acquire.bind(c);
      let queries = 0;
      c.acquire = async (db) => {
        const conn = await acquire(db);
        const query = conn.query;
        conn.query = ((...args: unknown[]) => (queries++, (query as (...a: unknown[]) => unknown).apply(conn, args))) as typeof query;
        const release = conn.release;
        conn.release = (err?: boolean | Error) => {
          conn.query = query;
          conn.release = release;
          return release.call(conn, err);
        };
        return conn;
      };
      try {
        return { result: await fn(), queries };
      } finally {
        c.acquire = acquire;
      }
    }

    beforeAll(async () => {
      if (!run) return;
      await sql('shop', ...MIX);
      await sql('shop_copy', ...MIX);
      // New sessions on the target default to backslash escapes in literals; the applier's sessions pin them off.
      await sql('postgres', 'ALTER DATABASE shop_copy SET standard_conforming_strings = off');
      fresh = new PgClient({ kind: 'postgresql', host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres', poolSize: 2 });
      p = (await prepareCdc(client, 'mixed', tables)) as typeof p0;
    });
    afterAll(async () => {
      if (!run) return;
      await fresh?.close();
      await sql('postgres', 'ALTER DATABASE shop_copy RESET standard_conforming_strings');
      await releaseCdc(client, p);
    });

    it('every operation over several tables, interleaved, in one call: the target equals the source', async () => {
      const c = await pgClient(server, 'shop');
      const N = 48;
      try {
        for (let i = 0; i < N; i++) {
          const s = TRICKY[i % TRICKY.length]!;
          await c.query('BEGIN');
          await c.query('INSERT INTO mix_p VALUES ($1, $2)', [i, s]);
          await c.query(
            "INSERT INTO mix_a (id, u, txt, b, j, arr, big, ts) VALUES ($1, $2, $3, $4, $5, $6, (SELECT string_agg(md5(($1 * 1000 + g)::text), '') FROM generate_series(1, 200) g), '2024-02-29 23:59:59.123456+05:30')",
            [i, `u${i}`, s, Buffer.from([0, 0x5c, 0x27, i, 0xff]), JSON.stringify({ s, i, n: null }), [s, null, 'NULL', `"${s}"`, `${s}\\`]],
          );
          await c.query('INSERT INTO mix_b VALUES ($1, $2, $3), ($1, $4, NULL)', [i, s, Buffer.from(s), `${s}-2`]);
          await c.query('INSERT INTO mix_c VALUES ($1, $2), ($1, $2)', [i % 4, s]);
          // updates of other columns leave the large value unsent (unchanged TOAST)
          if (i > 0) await c.query('UPDATE mix_a SET txt = txt || $1, j = j || $2 WHERE id = $3', [s, JSON.stringify({ u: s }), i - 1]);
          if (i % 3 === 0) await c.query('UPDATE mix_a SET big = big || $1 WHERE id = $2', [s, i]);
          if (i % 4 === 1) await c.query('DELETE FROM mix_c WHERE ctid = (SELECT ctid FROM mix_c WHERE x = $1 LIMIT 1)', [i % 4]);
          if (i % 4 === 2) await c.query("UPDATE mix_c SET y = y || '!' WHERE ctid = (SELECT ctid FROM mix_c WHERE x = $1 LIMIT 1)", [i % 4]);
          if (i % 5 === 2) await c.query('UPDATE mix_a SET id = id + 1000 WHERE id = $1', [i - 1]);
          // a unique value handed from one row to another: only right in source order
          if (i % 6 === 3) {
            await c.query('UPDATE mix_a SET u = NULL WHERE id = $1', [i]);
            await c.query('UPDATE mix_a SET u = $1 WHERE id = $2', [`u${i}`, i - 2]);
          }
          // child rows go before their parent
          if (i % 3 === 2) {
            await c.query('DELETE FROM mix_b WHERE a = $1', [i - 1]);
            await c.query('DELETE FROM mix_p WHERE id = $1', [i - 1]);
          }
          await c.query('COMMIT');
        }
      } finally {
        await c.end();
      }
      got = await readAll(p, tables, N);
      const changes = rowChanges(got);
      expect(new Set(changes.map((x) => x.op))).toEqual(new Set(['insert', 'update', 'delete']));
      expect(changes.some((x) => x.unchangedColumns?.includes('big'))).toBe(true);
      const { result, queries } = await countingQueries(fresh, () => applyChanges(fresh, got, route, opts));
      expect(result.rows).toBe(changes.length);
      await expectSame('mix_p', 'mix_a', 'mix_b', 'mix_c');
      // one query per update with unchanged TOAST values (it needs its row count) and a few for the rest
      const toast = changes.filter((x) => x.unchangedColumns?.length).length;
      expect(queries).toBeLessThan(toast * 2 + 10);
      console.log(`[cdc-postgres] mixed batch: ${changes.length} row changes over 4 tables in ${queries} queries (${toast} updates of sent columns only)`);
    });

    it('replays of the mixed batch converge (tables with a key)', async () => {
      // (not mix_a: replaying an old row image can collide with the unique value another row holds by now)
      const keyed = got.map((t) => ({ ...t, changes: rowChanges([t]).filter((x) => x.table.table === 'mix_p' || x.table.table === 'mix_b') }));
      await applyChanges(fresh, keyed, route, opts);
      await applyChanges(fresh, keyed.slice(Math.floor(keyed.length / 3)), route, opts);
      await expectSame('mix_p', 'mix_b');
    });

    it('a failing statement in the middle rolls the whole batch back, and the next batch applies', async () => {
      await sql('shop_copy', "INSERT INTO mix_a (id, u) OVERRIDING SYSTEM VALUE VALUES (5000, 'target-only')");
      await sql('shop', "INSERT INTO mix_c VALUES (1, 'before the conflict')", "INSERT INTO mix_p VALUES (99, 'x')", "INSERT INTO mix_a (id, u) VALUES (5000, 'from-source')", "INSERT INTO mix_c VALUES (2, 'after the conflict')");
      // (nothing was acknowledged: the slot streams the first test's transactions again, then these)
      const all = await readAll(p, tables, got.length + 4);
      const batch = all.slice(all.indexOf(nonEmpty(all)[nonEmpty(got).length]!));
      expect(rowChanges(batch).map((x) => x.table.table)).toEqual(['mix_c', 'mix_p', 'mix_a', 'mix_c']);
      const err = await applyChanges(fresh, batch, route, { ...opts, conflictPolicy: 'stop' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FatalEngineError);
      expect((err as Error).message).toMatch(/into "public"\."mix_a" hit an existing key.*stop/);
      const state = async () =>
        (await query('shop_copy', "SELECT (SELECT count(*) FROM mix_c WHERE y LIKE '% the conflict')::int AS c, (SELECT count(*) FROM mix_p WHERE id = 99)::int AS p, (SELECT u FROM mix_a WHERE id = 5000) AS u"))[0];
      expect(await state()).toEqual({ c: 0, p: 0, u: 'target-only' });
      await applyChanges(fresh, batch, route, opts);
      expect(await state()).toEqual({ c: 2, p: 1, u: 'from-source' });
      await expectSame('mix_p', 'mix_b');
    });
  });
});
