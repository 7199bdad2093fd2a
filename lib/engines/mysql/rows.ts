/**
 * MySQL/MariaDB rows: read a chunk page by page in key order, upsert pages, count, truncate.
 *
 * Values stay in mysql2's representation: strings for dates, times, DECIMAL, BIGINT and JSON,
 * Buffers for binary strings, BIT and geometry (MySQL's internal SRID+WKB format, which an
 * INSERT accepts back as is), numbers for the other numeric types. FLOAT columns are read as
 * `col + 0`, the exact single-precision value as a double: the text form MySQL prints for a FLOAT
 * has 6 significant digits and would not round-trip.
 *
 * writeRows is an idempotent upsert (plain INSERT first, `INSERT ... ON DUPLICATE KEY UPDATE`
 * every non-key column when a key already exists), split into statements that stay well under
 * max_allowed_packet. A table without a key gets
 * plain INSERTs: writing its single chunk twice duplicates rows, so its chunk is redone from an
 * empty table (truncate) by the caller.
 */
import type { PoolConnection, TypeCastField, TypeCastNext } from 'mysql2';
import type { Chunk, RowPage, TableRef } from '../engine.js';
import { validateRowFilter } from '../sql-filter.js';
import { keyPredicate } from './chunks.js';
import { qid, qtable, toDriverValue, versionParts, type MySqlClient } from './connection.js';

/** Upper bound for one INSERT statement, in (approximate) bytes. */
const MAX_STATEMENT_BYTES = 8 * 1024 * 1024;

const keepGeometry = (field: TypeCastField, next: TypeCastNext) => (field.type === 'GEOMETRY' ? field.buffer() : next());

export function sizeOf(v: unknown): number {
  if (v === null || v === undefined) return 4;
  if (typeof v === 'string') return v.length + 2;
  if (Buffer.isBuffer(v)) return v.length * 2 + 3;
  return 8;
}

function pageBytes(rows: unknown[][]): number {
  let n = 0;
  for (const r of rows) for (const v of r) n += sizeOf(v);
  return n;
}

export type ColumnList = { name: string; dataType: string }[];

function selectList(cols: string[], types: Map<string, string>): string {
  return cols.map((c) => (types.get(c) === 'float' ? `(${qid(c)} + 0)` : qid(c))).join(', ');
}

function filterSql(where: string | undefined): string | undefined {
  return where ? validateRowFilter(where, 'mysql') : undefined;
}

/**
 * Pages of about `pageRows` rows in key order, within (lower, upper]. Keyset pagination: each
 * page starts after the last key of the previous one, so no OFFSET scans and no skipped rows.
 */
export async function* readChunk(
  client: MySqlClient,
  chunk: Chunk,
  opts: { pageRows: number; columns?: string[]; where?: string },
  columns: ColumnList,
): AsyncIterable<RowPage> {
  const ref = chunk.table;
  const cols = opts.columns ?? columns.map((c) => c.name);
  const types = new Map(columns.map((c) => [c.name, c.dataType]));
  const typeCast = cols.some((c) => ['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection'].includes(types.get(c) ?? ''))
    ? { typeCast: keepGeometry }
    : {};
  const filter = filterSql(opts.where);
  const pageRows = Math.max(1, Math.floor(opts.pageRows));
  const keys = chunk.keyColumns;
  if (keys.length === 0) {
    yield* streamAll(client, ref, cols, types, filter, pageRows, typeCast);
    return;
  }
  const order = keys.map(qid).join(', ');
  const upper = chunk.upper ? keyPredicate(keys, chunk.upper, '<=') : undefined;
  let lower = chunk.lower;
  for (;;) {
    const conds: string[] = [];
    const values: unknown[] = [];
    if (lower) {
      const p = keyPredicate(keys, lower, '>');
      conds.push(p.sql);
      values.push(...p.values);
    }
    if (upper) {
      conds.push(upper.sql);
      values.push(...upper.values);
    }
    if (filter) conds.push(filter);
    const { rows } = await client.arrays(
      `SELECT ${selectList(cols, types)}, ${selectList(keys, types)} FROM ${qtable(ref)}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`,
      [...values, pageRows],
      typeCast,
    );
    if (rows.length === 0) return;
    const out = rows.map((r) => r.slice(0, cols.length));
    yield { columns: cols, rows: out, bytes: pageBytes(out) };
    if (rows.length < pageRows) return;
    lower = rows[rows.length - 1]!.slice(cols.length);
  }
}

/** A table without a key: one streamed scan, cut into pages (the connection is dropped if the reader stops early). */
async function* streamAll(
  client: MySqlClient,
  ref: TableRef,
  cols: string[],
  types: Map<string, string>,
  filter: string | undefined,
  pageRows: number,
  extra: object,
): AsyncIterable<RowPage> {
  const conn: PoolConnection = await client.acquire();
  let done = false;
  try {
    const q = conn.query({ sql: `SELECT ${selectList(cols, types)} FROM ${qtable(ref)}${filter ? ` WHERE ${filter}` : ''}`, rowsAsArray: true, ...extra });
    const stream = q.stream({ highWaterMark: pageRows });
    let rows: unknown[][] = [];
    try {
      for await (const row of stream as AsyncIterable<unknown[]>) {
        rows.push(row);
        if (rows.length >= pageRows) {
          yield { columns: cols, rows, bytes: pageBytes(rows) };
          rows = [];
        }
      }
    } catch (e) {
      throw client.classify(e);
    }
    if (rows.length) yield { columns: cols, rows, bytes: pageBytes(rows) };
    done = true;
  } finally {
    if (done) conn.release();
    else conn.destroy();
  }
}

/** Statements of at most `limit` bytes each; values restored to driver form where JSON lost it. */
function batches(rows: unknown[][], limit: number): unknown[][][] {
  const out: unknown[][][] = [];
  let batch: unknown[][] = [];
  let bytes = 0;
  for (const row of rows) {
    let size = 0;
    let values = row;
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
        if (values === row) values = [...row];
        values[i] = toDriverValue(v);
      }
      size += sizeOf(values[i]);
    }
    if (batch.length && bytes + size > limit) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(values);
    bytes += size;
  }
  if (batch.length) out.push(batch);
  return out;
}

const isDuplicateKey = (e: unknown) => (e as { cause?: { errno?: number } }).cause?.errno === 1062;

/**
 * Idempotent upsert of one page; returns the number of rows written.
 *
 * Each statement is first tried as a plain multi-row INSERT (the chunk's range is normally
 * empty, and ON DUPLICATE KEY UPDATE costs about a third more); a duplicate key rolls that one
 * statement back, and it is redone as INSERT ... ON DUPLICATE KEY UPDATE of every non-key column.
 */
export async function writeRows(client: MySqlClient, table: TableRef, page: RowPage, keyColumns: string[]): Promise<number> {
  if (page.rows.length === 0) return 0;
  const info = await client.serverInfo();
  const [major, minor] = versionParts(info.version);
  // MySQL 8.0.20 deprecates VALUES() in ON DUPLICATE KEY UPDATE in favour of a row alias (8.0.19+); MariaDB has only VALUES().
  const rowAlias = info.flavor === 'mysql' && (major > 8 || (major === 8 && (minor > 0 || Number(/^8\.0\.(\d+)/.exec(info.version)?.[1] ?? 0) >= 19)));
  const insert = `INSERT INTO ${qtable(table)} (${page.columns.map(qid).join(', ')}) VALUES ?`;
  const keys = new Set(keyColumns);
  const update = page.columns.filter((c) => !keys.has(c));
  const set = (update.length ? update : keyColumns.slice(0, 1)).map((c) => `${qid(c)} = ${rowAlias ? `_drs_new.${qid(c)}` : `VALUES(${qid(c)})`}`);
  const upsert = `${insert}${rowAlias ? ' AS _drs_new' : ''} ON DUPLICATE KEY UPDATE ${set.join(', ')}`;
  const packet = Number(info.variables.max_allowed_packet ?? 0) || 16 * 1024 * 1024;
  for (const batch of batches(page.rows, Math.min(MAX_STATEMENT_BYTES, Math.floor(packet / 2)))) {
    if (keyColumns.length === 0) {
      await client.exec(insert, [batch]);
      continue;
    }
    try {
      await client.exec(insert, [batch]);
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      await client.exec(upsert, [batch]);
    }
  }
  return page.rows.length;
}

export async function countRows(client: MySqlClient, table: TableRef, where?: string): Promise<number> {
  const filter = filterSql(where);
  const { rows } = await client.arrays(`SELECT COUNT(*) FROM ${qtable(table)}${filter ? ` WHERE ${filter}` : ''}`);
  return Number(rows[0]![0]);
}

export async function truncate(client: MySqlClient, table: TableRef): Promise<void> {
  await client.exec(`TRUNCATE TABLE ${qtable(table)}`);
}

