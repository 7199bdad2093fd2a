/**
 * MySQL/MariaDB → MySQL/MariaDB chunk copy that leaves the per-value work to the servers.
 *
 * The source renders every row as one value, and Node only moves those values: it reads the chunk
 * in keyset pages (as readChunk does) and streams them to the target while the next page is read.
 * Two renderings, by what the target allows:
 *
 * - `LOAD DATA LOCAL INFILE` (the target parses about half as much per row as for INSERT): one
 *   tab-separated line per row, as bytes, fed from a stream. Text is enclosed in double quotes with
 *   quotes doubled (see `field`), NULL is the unenclosed word NULL; binary strings and geometry
 *   travel as hex and are UNHEXed on the target, BIT as its unsigned value. LOAD DATA LOCAL turns
 *   what an INSERT would refuse (a duplicate key, a value that does not fit) into warnings, so any
 *   warning, or a row count that differs from the lines sent, rolls the chunk back: nothing is
 *   skipped or altered silently.
 * - multi-row `INSERT` (the target has local_infile off, MySQL 8's default): each row as the SQL
 *   tuple `('a',12,NULL,X'00ff',0x5)`, values through QUOTE() (backslash, quote, NUL and Ctrl-Z
 *   escaped; NULL as the word NULL), binary strings and geometry as X'hex', BIT as 0xhex.
 *
 * Both read FLOAT as `col + 0` (its exact value as a double, as the page path reads it), convert
 * text of other character sets to utf8mb4 (what the page path's connection delivers too) and
 * produce the same text the page path reads, so the rows are identical to the page path's.
 *
 * The chunk is written in one target transaction: all or nothing. When the range already holds rows
 * of the chunk (committed before but not marked done: a duplicate key, or LOAD DATA's warnings), or
 * a row is too long for one result value (CONCAT gives NULL beyond max_allowed_packet; the page
 * path reads values one by one), it is rolled back and undefined returned; the caller then redoes
 * the chunk with the page upsert path, which also reports bad values exactly as before.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { PoolConnection } from 'mysql2';
import type { Chunk, CopyChunkOptions, CopyChunkResult, TableRef } from '../engine.js';
import { validateRowFilter } from '../sql-filter.js';
import { keyPredicate } from './chunks.js';
import { qid, qtable, type MySqlClient } from './connection.js';

/** Upper bound for one INSERT statement, in bytes (further capped at half of max_allowed_packet). */
const MAX_STATEMENT_BYTES = 8 * 1024 * 1024;
/** Rows per source read. */
const READ_ROWS = 10_000;
/** Bytes per write into the LOAD DATA stream (each becomes one protocol packet). */
const STREAM_SLICE = 1024 * 1024;

const HEX_STRING = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection']);
const TEXT = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set', 'json']);

/** Server errors meaning "LOAD DATA LOCAL is not allowed here" (MySQL 1148/3948, MariaDB 4166). */
const LOCAL_INFILE_REFUSED = new Set([1148, 3948, 4166]);

/** One rendered row: bytes for LOAD DATA, text for INSERT. */
type Line = string | Buffer;

interface ColumnFacts {
  dataType: string;
  charset: string | null;
}

/** Targets known to refuse LOAD DATA LOCAL (asked once per client). */
const noLocalInfile = new WeakSet<MySqlClient>();

/** The value as an SQL literal for INSERT, computed by the source. Never NULL (NULL is the word `NULL`). */
function literal(col: string, f: ColumnFacts): string {
  const c = qid(col);
  if (HEX_STRING.has(f.dataType)) return `COALESCE(CONCAT('X''', HEX(${c}), ''''), 'NULL')`;
  if (f.dataType === 'bit') return `COALESCE(CONCAT('0x', HEX(${c})), 'NULL')`;
  if (f.dataType === 'float') return `QUOTE(${c} + 0)`;
  if (f.charset && f.charset !== 'utf8mb4') return `CONVERT(QUOTE(${c}) USING utf8mb4)`;
  return `QUOTE(${c})`;
}

/**
 * The value as a LOAD DATA field (`FIELDS TERMINATED BY '\t' ENCLOSED BY '"' ESCAPED BY ''`),
 * computed by the source, and how the target assigns it. Text is enclosed in double quotes with
 * its double quotes doubled: with no escape character, an enclosed field ends only at a quote
 * followed by a tab or newline, which a doubled quote never is, so tabs, newlines, backslashes
 * and NULs inside need no escaping (one REPLACE per value instead of four). NULL is the unenclosed
 * word NULL, which no other field can be: numbers, dates, hex and BIT values are never words.
 */
/** Source column `col`, written to target column `into`: how the source renders it and how LOAD DATA takes it. */
function field(col: string, into: string, f: ColumnFacts, n: number): { expr: string; target: string; set?: string } {
  const c = qid(col);
  const t = qid(into);
  const v = `@v${n}`;
  if (HEX_STRING.has(f.dataType)) return { expr: `COALESCE(HEX(${c}), 'NULL')`, target: v, set: `${t} = UNHEX(${v})` };
  if (f.dataType === 'bit') return { expr: `COALESCE(${c} + 0, 'NULL')`, target: v, set: `${t} = CAST(${v} AS UNSIGNED)` };
  if (f.dataType === 'float') return { expr: `COALESCE(${c} + 0, 'NULL')`, target: t };
  if (TEXT.has(f.dataType) || f.charset) {
    const text = f.charset && f.charset !== 'utf8mb4' ? `CONVERT(${c} USING utf8mb4)` : f.dataType === 'json' ? `CAST(${c} AS CHAR CHARACTER SET utf8mb4)` : c;
    return { expr: `COALESCE(CONCAT('"', REPLACE(${text}, '"', '""'), '"'), 'NULL')`, target: t };
  }
  return { expr: `COALESCE(${c}, 'NULL')`, target: t };
}

/** The columns a chunk copy reads on the source and the names it writes them under, position by position. */
export interface CopyColumns {
  source: string[];
  target: string[];
}

async function columnFacts(client: MySqlClient, ref: TableRef): Promise<Map<string, ColumnFacts>> {
  const rows = await client.rows<{ name: string; dataType: string; charset: string | null }>(
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, CHARACTER_SET_NAME AS charset FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [ref.db, ref.table],
  );
  return new Map(rows.map((r) => [r.name, { dataType: String(r.dataType).toLowerCase(), charset: r.charset ? String(r.charset).toLowerCase() : null }]));
}

interface Outcome {
  affectedRows?: number;
  warningStatus?: number;
}

function query(conn: PoolConnection, sql: string, extra: { infileStreamFactory?: () => Readable } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => conn.query({ sql, ...extra }, (err, res) => (err ? reject(err) : resolve(res as Outcome))));
}

const errnoOf = (e: unknown): number | undefined => (e as { errno?: number }).errno ?? (e as { cause?: { errno?: number } }).cause?.errno;

/** The chunk cannot be copied whole (nothing was written): the caller uses the page path. */
class Declined extends Error {}

/**
 * Copy one chunk of `chunk.table` on `source` into `into` on `target`. Undefined when the target
 * range already held rows of the chunk, or a row did not fit in one value (nothing was written).
 */
export async function copyChunk(source: MySqlClient, target: MySqlClient, chunk: Chunk, into: TableRef, columns: CopyColumns, opts: CopyChunkOptions): Promise<CopyChunkResult | undefined> {
  const facts = await columnFacts(source, chunk.table);
  const fact = (c: string): ColumnFacts => facts.get(c) ?? { dataType: '', charset: null };
  for (;;) {
    const load = !noLocalInfile.has(target);
    try {
      return await copyWith(load ? 'load' : 'insert', source, target, chunk, into, columns, fact, opts);
    } catch (e) {
      if (!load || !LOCAL_INFILE_REFUSED.has(errnoOf(e) ?? 0)) throw e;
      noLocalInfile.add(target);
    }
  }
}

async function copyWith(
  mode: 'load' | 'insert',
  source: MySqlClient,
  target: MySqlClient,
  chunk: Chunk,
  into: TableRef,
  columns: CopyColumns,
  fact: (c: string) => ColumnFacts,
  opts: CopyChunkOptions,
): Promise<CopyChunkResult | undefined> {
  const keys = chunk.keyColumns;
  const fields = columns.source.map((c, i) => field(c, columns.target[i]!, fact(c), i));
  // LOAD DATA lines come as bytes (no decoding and re-encoding in Node), INSERT tuples as text.
  const render = mode === 'load' ? `CONVERT(CONCAT_WS('\\t', ${fields.map((f) => f.expr).join(', ')}) USING binary)` : `CONCAT('(', CONCAT_WS(',', ${columns.source.map((c) => literal(c, fact(c))).join(', ')}), ')')`;
  const keyList = keys.map((k) => (fact(k).dataType === 'float' ? `(${qid(k)} + 0)` : qid(k))).join(', ');
  const filter = opts.where ? validateRowFilter(opts.where, 'mysql') : undefined;
  const upper = keys.length && chunk.upper ? keyPredicate(keys, chunk.upper, '<=') : undefined;

  const where = (lower: unknown[] | undefined, values: unknown[]): string => {
    const conds: string[] = [];
    if (lower) {
      const p = keyPredicate(keys, lower, '>');
      conds.push(p.sql);
      values.push(...p.values);
    }
    if (upper) {
      conds.push(upper.sql);
      values.push(...upper.values);
    }
    if (filter) conds.push(`(${filter})`);
    return conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
  };
  const text = (t: unknown): Line => {
    if (typeof t !== 'string' && !Buffer.isBuffer(t)) throw new Declined('a row does not fit in one value');
    return t;
  };

  /** The chunk's rows as rendered strings, a page at a time: keyset pages in key order, or one streamed scan for a table without a key. */
  async function* pages(): AsyncGenerator<Line[]> {
    if (keys.length) {
      let lower = chunk.lower;
      for (;;) {
        const values: unknown[] = [];
        const sql = `SELECT ${render}, ${keyList} FROM ${qtable(chunk.table)}${where(lower, values)} ORDER BY ${keys.map(qid).join(', ')} LIMIT ${READ_ROWS}`;
        const { rows } = await source.arrays(sql, values);
        if (rows.length) yield rows.map((r) => text(r[0]));
        if (rows.length < READ_ROWS) return;
        lower = rows[rows.length - 1]!.slice(1);
      }
    }
    const conn = await source.acquire();
    let done = false;
    try {
      const values: unknown[] = [];
      const stream = conn.query({ sql: `SELECT ${render} FROM ${qtable(chunk.table)}${where(undefined, values)}`, values, rowsAsArray: true }).stream({ highWaterMark: READ_ROWS });
      let batch: Line[] = [];
      for await (const row of stream as AsyncIterable<unknown[]>) {
        batch.push(text(row[0]));
        if (batch.length >= READ_ROWS) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
      done = true;
    } finally {
      if (done) conn.release();
      else conn.destroy();
    }
  }

  /** Every page in order, the next one read while `write` handles the current one. */
  const eachPage = async (write: (rows: Line[]) => Promise<number>): Promise<{ rows: number; bytes: number }> => {
    const reader = pages();
    let rows = 0;
    let bytes = 0;
    try {
      let next = reader.next();
      for (;;) {
        const page = await next;
        if (page.done) return { rows, bytes };
        next = reader.next();
        next.catch(() => undefined); // awaited on the next turn
        const moved = await write(page.value);
        rows += page.value.length;
        bytes += moved;
        await opts.onData?.(moved);
      }
    } finally {
      await reader.return(undefined).catch(() => undefined);
    }
  };

  const conn = await target.acquire();
  let clean = false;
  try {
    await query(conn, 'START TRANSACTION');
    let result: { rows: number; bytes: number };
    if (mode === 'load') {
      const sets = fields.filter((f) => f.set).map((f) => f.set!);
      const sql =
        `LOAD DATA LOCAL INFILE 'drs-chunk' INTO TABLE ${qtable(into)} CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ENCLOSED BY '"' ESCAPED BY '' LINES TERMINATED BY '\\n' ` +
        `(${fields.map((f) => f.target).join(', ')})${sets.length ? ` SET ${sets.join(', ')}` : ''}`;
      const file = new PassThrough();
      file.on('error', () => undefined); // destroyed below to end the upload early; mysql2 reports that error on the query
      const loading = query(conn, sql, { infileStreamFactory: () => file });
      loading.catch(() => undefined); // awaited below
      const failed = loading.then(() => new Promise<never>(() => undefined));
      failed.catch(() => undefined); // only raced against the upload
      let stop: unknown;
      const upload = eachPage(async (lines) => {
        let size = 0;
        for (const l of lines) size += l.length + 1;
        const buf = Buffer.allocUnsafe(size);
        let at = 0;
        for (const l of lines) {
          at += (l as Buffer).copy(buf, at);
          buf[at++] = 10; // \n
        }
        for (let at = 0; at < buf.length; at += STREAM_SLICE) {
          if (stop) throw stop;
          if (!file.write(buf.subarray(at, at + STREAM_SLICE))) await Promise.race([new Promise((r) => file.once('drain', r)), failed]);
        }
        return buf.length;
      });
      try {
        result = await Promise.race([failed, upload]);
        file.end();
      } catch (e) {
        stop = e;
        file.destroy(e instanceof Error ? e : new Error(String(e))); // ends the upload; the server answers, then everything is rolled back
        await Promise.allSettled([upload, loading]);
        throw e;
      }
      const outcome = await loading;
      if (outcome.warningStatus || outcome.affectedRows !== result.rows) throw new Declined(`LOAD DATA reported ${outcome.warningStatus ?? 0} warnings and ${outcome.affectedRows} rows for ${result.rows} lines`);
    } else {
      const info = await target.serverInfo();
      const packet = Number(info.variables.max_allowed_packet ?? 0) || 16 * 1024 * 1024;
      const limit = Math.min(MAX_STATEMENT_BYTES, Math.floor(packet / 2));
      const insert = `INSERT INTO ${qtable(into)} (${columns.target.map(qid).join(', ')}) VALUES `;
      result = await eachPage(async (page) => {
        const tuples = page as string[];
        let start = 0;
        let size = 0;
        let total = 0;
        for (let i = 0; i <= tuples.length; i++) {
          const len = i < tuples.length ? Buffer.byteLength(tuples[i]!) + 1 : 0;
          if (i === tuples.length || (i > start && size + len > limit)) {
            if (i > start) await query(conn, insert + tuples.slice(start, i).join(','));
            start = i;
            size = 0;
          }
          size += len;
          total += len;
        }
        return total;
      });
    }
    await query(conn, 'COMMIT');
    clean = true;
    return result;
  } catch (e) {
    await query(conn, 'ROLLBACK').then(() => (clean = true), () => undefined);
    if (e instanceof Declined || (keys.length && errnoOf(e) === 1062)) return undefined;
    throw target.classify(e);
  } finally {
    if (clean) conn.release();
    else conn.destroy();
  }
}
