/**
 * MySQL/MariaDB chunk planning: split a table into primary-key ranges (lower exclusive, upper
 * inclusive), deterministic for the same data.
 *
 * - A single integer key: fixed-width ranges of `rowsPerChunk` key values between MIN and MAX
 *   (dense keys give full chunks; statistics only choose between this and walking the key).
 *   When that would make more than MAX_ARITHMETIC_CHUNKS ranges, or more than 4× the ranges the
 *   row estimate calls for (sparse keys: mostly empty ranges), the key is walked instead.
 * - Any other key (composite, strings, dates, binary): walk the key index, taking every
 *   `rowsPerChunk`-th key as a boundary (`ORDER BY key LIMIT 1 OFFSET n-1`).
 * - No usable key (no primary key, no unique key over NOT NULL columns): one chunk, no bounds.
 * The first chunk has no lower bound and the last no upper bound, so rows inserted outside the
 * planned key span are still covered.
 */
import { createHash } from 'node:crypto';
import type { Chunk, TableRef, TableSchema } from '../engine.js';
import { qid, qtable, toDriverValue, toJsonValue, type MySqlClient } from './connection.js';

const MAX_ARITHMETIC_CHUNKS = 10_000;
const INTEGER = /^(tinyint|smallint|mediumint|int|integer|bigint)\b/i;

/** The key chunks and pages are ordered by: the primary key, else the first unique key over NOT NULL columns. */
export function usableKey(schema: TableSchema): string[] {
  if (schema.primaryKey.length) return schema.primaryKey;
  const notNull = new Set(schema.columns.filter((c) => !c.nullable).map((c) => c.name));
  const uk = schema.indexes
    .filter((i) => i.unique && i.columns.length > 0 && i.columns.every((c) => c !== '' && notNull.has(c)))
    .sort((a, b) => a.columns.length - b.columns.length || a.name.localeCompare(b.name))[0];
  return uk?.columns ?? [];
}

export function chunkId(ref: TableRef, n: number): string {
  const h = createHash('sha256').update(JSON.stringify([ref.db, ref.schema ?? null, ref.table])).digest('hex').slice(0, 12);
  return `${h}-${String(n).padStart(5, '0')}`;
}

/**
 * `(k1, k2) > (v1, v2)` spelled out as ORs (`k1 > v1 OR (k1 = v1 AND k2 > v2)`), which every
 * MySQL and MariaDB version turns into an index range. `op` is the comparison on the last column.
 */
export function keyPredicate(cols: string[], values: unknown[], op: '>' | '<='): { sql: string; values: unknown[] } {
  const strict = op === '>' ? '>' : '<';
  const ors: string[] = [];
  const vals: unknown[] = [];
  for (let i = 0; i < cols.length; i++) {
    const ands: string[] = [];
    for (let j = 0; j < i; j++) {
      ands.push(`${qid(cols[j]!)} = ?`);
      vals.push(toDriverValue(values[j]));
    }
    ands.push(`${qid(cols[i]!)} ${i === cols.length - 1 ? op : strict} ?`);
    vals.push(toDriverValue(values[i]));
    ors.push(ands.length > 1 ? `(${ands.join(' AND ')})` : ands[0]!);
  }
  return { sql: ors.length > 1 ? `(${ors.join(' OR ')})` : ors[0]!, values: vals };
}

export async function planChunks(client: MySqlClient, schema: TableSchema, rowsPerChunk: number): Promise<Chunk[]> {
  const ref = schema.ref;
  const keys = usableKey(schema);
  const per = Math.max(1, Math.floor(rowsPerChunk));
  if (keys.length === 0) return [{ id: chunkId(ref, 0), table: ref, keyColumns: [], estimatedRows: schema.estimatedRows }];
  const keyType = schema.columns.find((c) => c.name === keys[0])?.type ?? '';
  if (keys.length === 1 && INTEGER.test(keyType)) {
    const planned = await integerRanges(client, ref, keys[0]!, per, schema.estimatedRows);
    if (planned) return planned;
  }
  return walk(client, ref, keys, per);
}

async function integerRanges(client: MySqlClient, ref: TableRef, key: string, per: number, estimatedRows: number): Promise<Chunk[] | undefined> {
  const { rows } = await client.arrays(`SELECT MIN(${qid(key)}), MAX(${qid(key)}) FROM ${qtable(ref)}`);
  const [min, max] = rows[0] as [string | number | null, string | number | null];
  if (min === null || max === null) return [{ id: chunkId(ref, 0), table: ref, keyColumns: [key], estimatedRows: 0 }];
  const lo = BigInt(min);
  const hi = BigInt(max);
  const step = BigInt(per);
  const n = (hi - lo) / step + 1n;
  // Sparse keys (far more key values than rows) would make mostly empty ranges: walk instead.
  const expected = BigInt(Math.max(1, Math.ceil(estimatedRows / per)));
  if (n > BigInt(MAX_ARITHMETIC_CHUNKS) || (n > 16n && n > 4n * expected)) return undefined;
  const asValue = (v: bigint) => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());
  const chunks: Chunk[] = [];
  let lower: unknown[] | undefined;
  for (let i = 0n; i < n; i++) {
    const upper = i === n - 1n ? undefined : [asValue(lo + (i + 1n) * step - 1n)];
    chunks.push({ id: chunkId(ref, Number(i)), table: ref, keyColumns: [key], ...(lower ? { lower } : {}), ...(upper ? { upper } : {}), estimatedRows: per });
    lower = upper;
  }
  return chunks;
}

async function walk(client: MySqlClient, ref: TableRef, keys: string[], per: number): Promise<Chunk[]> {
  const cols = keys.map(qid).join(', ');
  const chunks: Chunk[] = [];
  let lower: unknown[] | undefined;
  for (let n = 0; ; n++) {
    const where = lower ? keyPredicate(keys, lower, '>') : undefined;
    const { rows } = await client.arrays(
      `SELECT ${cols} FROM ${qtable(ref)}${where ? ` WHERE ${where.sql}` : ''} ORDER BY ${cols} LIMIT 1 OFFSET ?`,
      [...(where?.values ?? []), per - 1],
    );
    const upper = rows[0] ? (rows[0] as unknown[]).map(toJsonValue) : undefined;
    chunks.push({ id: chunkId(ref, n), table: ref, keyColumns: keys, ...(lower ? { lower } : {}), ...(upper ? { upper } : {}), estimatedRows: per });
    if (!upper) return chunks;
    lower = upper;
  }
}
