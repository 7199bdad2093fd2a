/**
 * PostgreSQL → PostgreSQL chunk copy without parsing rows in Node: the chunk's key range is read
 * with `COPY (SELECT cols ... WHERE range [AND filter] ORDER BY key) TO STDOUT` and its messages
 * are relayed as they arrive into `COPY target (cols) FROM STDIN` (relay.ts), in one target
 * transaction.
 *
 * Values: COPY's binary format when every column is of a built-in type, the same on both sides,
 * between servers of the same major version (the exact internal value, and about a quarter less CPU
 * on the target); otherwise the text format, each type's output function, the same text readChunk
 * reads with SELECT (both sessions pin DateStyle, IntervalStyle, TimeZone, extra_float_digits,
 * bytea_output and client_encoding). Either way the target gets exactly what the page path writes.
 *
 * Idempotency: the chunk commits as a whole or not at all, so a crash mid-chunk leaves nothing of
 * it behind. When the range already holds some of the rows (the chunk was committed but not yet
 * marked done when the worker died), COPY hits a unique violation: the transaction is rolled back
 * and `undefined` tells the caller to redo the chunk with the page-by-page upsert path, which
 * converges to the same rows and leaves other rows of the target alone. A table without a key is
 * truncated by the caller before its single chunk, so COPY alone is enough there.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Chunk, CopyChunkOptions, CopyChunkResult, TableRef } from '../engine.js';
import { validateRowFilter } from '../sql-filter.js';
import { lit, qid, qtable, schemaOf, type PgClient } from './connection.js';
import { relayCopy } from './relay.js';

/** A key bound as SQL literals (COPY takes no parameters). Bounds are the keys' text forms. */
function bound(cols: string[], values: unknown[], op: '>' | '<='): string {
  const vals = values.slice(0, cols.length).map((v) => lit(typeof v === 'string' ? v : JSON.stringify(v)));
  return `(${cols.map(qid).join(', ')}) ${op} (${vals.join(', ')})`;
}

export function chunkSelect(chunk: Chunk, columns: string[], where: string | undefined): string {
  const conds: string[] = [];
  const keys = chunk.keyColumns;
  if (keys.length && chunk.lower) conds.push(bound(keys, chunk.lower, '>'));
  if (keys.length && chunk.upper) conds.push(bound(keys, chunk.upper, '<='));
  if (where) conds.push(`(${validateRowFilter(where, 'postgresql')})`);
  return (
    `SELECT ${columns.map(qid).join(', ')} FROM ${qtable(chunk.table)}` +
    (conds.length ? ` WHERE ${conds.join(' AND ')}` : '') +
    (keys.length ? ` ORDER BY ${keys.map(qid).join(', ')}` : '')
  );
}

/** Per column: its type as format_type prints it, and whether COPY's binary form of it is the same on every server. */
async function columnTypes(client: PgClient, ref: TableRef): Promise<Map<string, { type: string; portable: boolean }>> {
  // Built-in types (and arrays of them) have fixed OIDs and stable send/receive functions; a user
  // type's OID differs between servers, and arrays and composites carry element OIDs in binary.
  const builtin = (t: string) => `(${t}.typnamespace = 'pg_catalog'::regnamespace AND ${t}.typsend <> 0 AND ${t}.typreceive <> 0)`;
  const rows = await client.rows<{ name: string; type: string; portable: boolean | string }>(
    ref.db,
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            (${builtin('t')} AND t.typtype = 'b' AND (t.typelem = 0 OR EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND ${builtin('e')} AND e.typtype = 'b')))::text AS portable
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
    [qtable(ref)],
  );
  return new Map(rows.map((r) => [r.name, { type: r.type, portable: String(r.portable) === 'true' }]));
}

/**
 * COPY's binary format (no text formatting on the source nor parsing on the target: about a quarter
 * less target CPU) when it is exact: both servers of the same major version, every copied column
 * of a built-in type, and the same type on both sides. Otherwise text, which is always exact.
 */
export async function binarySafe(source: PgClient, from: TableRef, target: PgClient, into: TableRef, columns: CopyColumns): Promise<boolean> {
  const [si, ti] = await Promise.all([source.serverInfo(), target.serverInfo()]);
  if (si.versionNumber !== ti.versionNumber) return false;
  const [s, t] = await Promise.all([columnTypes(source, from), columnTypes(target, into)]);
  return columns.source.every((c, i) => s.get(c)?.portable === true && s.get(c)?.type === t.get(columns.target[i]!)?.type);
}

/** The columns a chunk copy reads on the source and the names it writes them under, position by position. */
export interface CopyColumns {
  source: string[];
  target: string[];
}

/**
 * Whether replaying the chunk into `into` would collide: the target has a unique index (not partial,
 * not on expressions) over some of the chunk's key columns. Not so while its primary key is deferred.
 */
async function keyEnforced(target: PgClient, into: TableRef, keys: string[]): Promise<boolean> {
  const [row] = await target.rows<{ enforced: string }>(
    into.db,
    `SELECT EXISTS (
       SELECT 1 FROM pg_index i
        WHERE i.indrelid = $1::text::regclass AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
          AND (SELECT bool_and(a.attname = ANY($2::text[])) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE k.ord <= i.indnkeyatts))::text AS enforced`,
    [qtable(into), keys],
  );
  return row?.enforced === 'true';
}

/** A transaction-level advisory lock key for one chunk of one target table (64 bits of a hash). */
function chunkLock(into: TableRef, chunk: Chunk): string {
  return createHash('sha256').update(JSON.stringify([into.db, schemaOf(into), into.table, chunk.id])).digest().readBigInt64BE(0).toString();
}

/** The caller no longer holds the chunk (CopyChunkOptions.stillOwned said so); nothing was written. */
export class ChunkNotOwnedError extends Error {}

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505' || (e as { cause?: { code?: string } }).cause?.code === '23505';

/**
 * Copy one chunk from `source` into `into` on `target`. Undefined when the target range already
 * held rows of the chunk (nothing was written; redo it with the upsert path).
 *
 * While the target's primary key is deferred (applySchema `deferPrimaryKey`) nothing would stop a
 * replayed chunk from adding its rows twice, so the chunk's transaction makes its range hold exactly
 * the chunk: it takes an advisory lock on the chunk (attempts of one chunk run one after the
 * other), asks `stillOwned` (an attempt that was superseded by a later claim writes nothing), and
 * unless this is the chunk's first attempt deletes the range before the COPY. A later attempt can
 * only write after this one has committed or rolled back, and then clears what it wrote. Without
 * the key that DELETE scans the table, but only replays (after a crash or a lost lease) pay it.
 */
export async function copyChunk(source: PgClient, target: PgClient, chunk: Chunk, into: TableRef, columns: CopyColumns, opts: CopyChunkOptions): Promise<CopyChunkResult | undefined> {
  const select = chunkSelect(chunk, columns.source, opts.where);
  const format = (await binarySafe(source, chunk.table, target, into, columns)) ? ' (FORMAT binary)' : '';
  const insert = `COPY ${qtable(into)} (${columns.target.map(qid).join(', ')}) FROM STDIN${format}`;
  const keys = chunk.keyColumns;
  const guarded = keys.length > 0 && !(await keyEnforced(target, into, keys));
  const src = await source.acquire(chunk.table.db);
  let srcClean = false;
  try {
    const result = await target.transaction(into.db, async (dst: pg.PoolClient) => {
      if (guarded) {
        await dst.query({ text: 'SELECT pg_advisory_xact_lock($1::int8)', values: [chunkLock(into, chunk)] });
        if (opts.stillOwned && !(await opts.stillOwned())) throw new ChunkNotOwnedError(`chunk ${chunk.id} was claimed again`);
        if (!opts.firstAttempt) {
          const range = [chunk.lower && bound(keys, chunk.lower, '>'), chunk.upper && bound(keys, chunk.upper, '<=')].filter(Boolean);
          await dst.query(`DELETE FROM ${qtable(into)}${range.length ? ` WHERE ${range.join(' AND ')}` : ''}`);
        }
      }
      return relayCopy(src, dst, `COPY (${select}) TO STDOUT${format}`, insert, opts.onData);
    });
    srcClean = true;
    return result;
  } catch (e) {
    srcClean = srcClean || e instanceof ChunkNotOwnedError; // the source was not used yet
    if (chunk.keyColumns.length && isUniqueViolation(e)) return undefined;
    throw source.classify(e);
  } finally {
    // A COPY TO cut off half way leaves the connection mid-protocol: drop it.
    src.release(!srcClean);
  }
}
