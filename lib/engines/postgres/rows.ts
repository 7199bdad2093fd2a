/**
 * PostgreSQL rows: read a chunk page by page in key order, upsert pages, count, truncate.
 *
 * Values are PostgreSQL's text forms (strings, null for NULL), which are exactly what COPY and
 * parameter input accept back, for every type (numeric, float, bytea hex, arrays, json, ranges,
 * intervals, time zones...).
 *
 * writeRows first streams the page with COPY into the target in one transaction (the common
 * case: the chunk's range is still empty, and COPY is several times faster than INSERT). When
 * that hits an existing key (unique_violation: the page or part of it was written before) the
 * transaction is rolled back and the page is upserted with multi-row
 * `INSERT ... ON CONFLICT (key) DO UPDATE SET every non-key column = EXCLUDED...`, so writing the
 * same page twice leaves the same rows. Identity columns keep the source's values (COPY always
 * does; the INSERT says OVERRIDING SYSTEM VALUE), but an identity GENERATED ALWAYS column cannot
 * be updated, so an upsert leaves it as first written. A table without a key gets plain COPY: its
 * single chunk is redone from an empty table (truncate) by the caller.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Chunk, RowPage, TableRef } from '../engine.js';
import { validateRowFilter } from '../sql-filter.js';
import { keyPredicate } from './chunks.js';
import { qid, qtable, type PgClient } from './connection.js';

/** Parameters per INSERT statement (PostgreSQL allows 65535). */
const MAX_PARAMS = 30_000;

function sizeOf(v: unknown): number {
  if (v === null || v === undefined) return 4;
  if (typeof v === 'string') return v.length + 2;
  if (Buffer.isBuffer(v)) return v.length * 2 + 4;
  return 8;
}

function pageBytes(rows: unknown[][]): number {
  let n = 0;
  for (const r of rows) for (const v of r) n += sizeOf(v);
  return n;
}

function filterSql(where: string | undefined): string | undefined {
  return where ? validateRowFilter(where, 'postgresql') : undefined;
}

/**
 * Pages of about `pageRows` rows in key order, within (lower, upper]. Keyset pagination: each
 * page starts after the last key of the previous one, so no OFFSET scans and no skipped rows.
 */
export async function* readChunk(client: PgClient, chunk: Chunk, opts: { pageRows: number; columns?: string[]; where?: string }, columns: string[]): AsyncIterable<RowPage> {
  const ref = chunk.table;
  const cols = opts.columns ?? columns;
  const filter = filterSql(opts.where);
  const pageRows = Math.max(1, Math.floor(opts.pageRows));
  const keys = chunk.keyColumns;
  const select = cols.map(qid).join(', ');
  if (keys.length === 0) {
    yield* cursorAll(client, ref, cols, `SELECT ${select} FROM ${qtable(ref)}${filter ? ` WHERE ${filter}` : ''}`, pageRows);
    return;
  }
  const order = keys.map(qid).join(', ');
  let lower = chunk.lower;
  for (;;) {
    const conds: string[] = [];
    const values: unknown[] = [];
    if (lower) {
      const p = keyPredicate(keys, lower, '>', values.length + 1);
      conds.push(p.sql);
      values.push(...p.values);
    }
    if (chunk.upper) {
      const p = keyPredicate(keys, chunk.upper, '<=', values.length + 1);
      conds.push(p.sql);
      values.push(...p.values);
    }
    if (filter) conds.push(filter);
    values.push(pageRows);
    const rows = await client.arrays(
      ref.db,
      `SELECT ${select}, ${order} FROM ${qtable(ref)}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''} ORDER BY ${order} LIMIT $${values.length}`,
      values,
    );
    if (rows.length === 0) return;
    const out = rows.map((r) => r.slice(0, cols.length));
    yield { columns: cols, rows: out, bytes: pageBytes(out) };
    if (rows.length < pageRows) return;
    lower = rows[rows.length - 1]!.slice(cols.length);
  }
}

/** A table without a key: one snapshot scan through a cursor, FETCHed a page at a time. */
async function* cursorAll(client: PgClient, ref: TableRef, cols: string[], sql: string, pageRows: number): AsyncIterable<RowPage> {
  const c = await client.acquire(ref.db);
  let clean = false;
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await c.query(`DECLARE drs_scan NO SCROLL CURSOR FOR ${sql}`);
    for (;;) {
      const r = await c.query({ text: `FETCH ${pageRows} FROM drs_scan`, rowMode: 'array' });
      if (r.rows.length) yield { columns: cols, rows: r.rows, bytes: pageBytes(r.rows) };
      if (r.rows.length < pageRows) break;
    }
    await c.query('COMMIT');
    clean = true;
  } catch (e) {
    throw client.classify(e);
  } finally {
    if (!clean) await c.query('ROLLBACK').then(() => (clean = true), () => undefined);
    c.release(!clean);
  }
}

/** A value as COPY text: `\N` for NULL, backslash, tab, newline and carriage return escaped. */
export function copyText(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'boolean') s = v ? 't' : 'f';
  else if (typeof v === 'number' || typeof v === 'bigint') s = String(v);
  else if (Buffer.isBuffer(v) || v instanceof Uint8Array) s = '\\x' + Buffer.from(v).toString('hex');
  else if (v instanceof Date) s = v.toISOString();
  else s = JSON.stringify(v);
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** A value as a query parameter (text form; pg would turn a Buffer into binary and a Date into local time). */
function paramValue(v: unknown): unknown {
  if (v === null || v === undefined || typeof v === 'string') return v ?? null;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return '\\x' + Buffer.from(v).toString('hex');
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && !Array.isArray(v)) return JSON.stringify(v);
  return v;
}

async function copyInto(c: pg.PoolClient, table: TableRef, page: RowPage): Promise<void> {
  const lines: string[] = [];
  for (const row of page.rows) lines.push(row.map(copyText).join('\t') + '\n');
  const stream = c.query(copyFrom(`COPY ${qtable(table)} (${page.columns.map(qid).join(', ')}) FROM STDIN`));
  await pipeline(Readable.from([lines.join('')]), stream);
}

async function upsert(c: pg.PoolClient, table: TableRef, page: RowPage, keyColumns: string[], fixed: string[]): Promise<void> {
  const keys = new Set([...keyColumns, ...fixed]);
  const update = page.columns.filter((col) => !keys.has(col));
  const conflict = `ON CONFLICT (${keyColumns.map(qid).join(', ')}) ${update.length ? `DO UPDATE SET ${update.map((col) => `${qid(col)} = EXCLUDED.${qid(col)}`).join(', ')}` : 'DO NOTHING'}`;
  const width = page.columns.length;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / width));
  for (let i = 0; i < page.rows.length; i += perStatement) {
    const batch = page.rows.slice(i, i + perStatement);
    const values: unknown[] = [];
    const tuples = batch.map((row) => {
      const ps = row.map((v) => {
        values.push(paramValue(v));
        return `$${values.length}`;
      });
      return `(${ps.join(', ')})`;
    });
    await c.query({
      text: `INSERT INTO ${qtable(table)} (${page.columns.map(qid).join(', ')}) OVERRIDING SYSTEM VALUE VALUES ${tuples.join(', ')} ${conflict}`,
      values,
    });
  }
}

/**
 * Idempotent upsert of one page; returns the number of rows written. `fixed` are columns an
 * update may not change (identity GENERATED ALWAYS): they keep the value the row was inserted with.
 */
export async function writeRows(client: PgClient, table: TableRef, page: RowPage, keyColumns: string[], fixed: () => Promise<string[]>): Promise<number> {
  if (page.rows.length === 0) return 0;
  try {
    await client.transaction(table.db, (c) => copyInto(c, table, page));
    return page.rows.length;
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (keyColumns.length === 0 || code !== '23505') throw e;
  }
  const keep = await fixed();
  await client.transaction(table.db, (c) => upsert(c, table, page, keyColumns, keep));
  return page.rows.length;
}

export async function countRows(client: PgClient, table: TableRef, where?: string): Promise<number> {
  const filter = filterSql(where);
  const [[n]] = (await client.arrays(table.db, `SELECT count(*) FROM ${qtable(table)}${filter ? ` WHERE ${filter}` : ''}`)) as [[string]];
  return Number(n);
}

export async function truncate(client: PgClient, table: TableRef): Promise<void> {
  await client.exec(table.db, `TRUNCATE TABLE ${qtable(table)}`);
}
