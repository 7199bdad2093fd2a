/**
 * PostgreSQL side of compare (verification): catalog reads for the object compare, row counts,
 * and chunk digests computed inside the server so that agreeing rows never cross the network.
 *
 * Row text: the row's values, each normalised to text and quote_nullable()d (NULL → the bare word
 * NULL, a value → a quoted, escaped literal, so NULL, '' and 'NULL' all differ and no value can
 * imitate a column boundary), joined with commas. Row hash (DigestSpec.hash): `pg64` =
 * hashtextextended(row text) (UTF-8 databases: several times faster than MD5), or `md5` = MD5 of
 * the row text converted to UTF-8 bytes whatever the database encoding. Normalisation makes equal
 * data hash the same:
 *   numeric                  → text without trailing fractional zeros (1.50 = 1.5 = 1.500)
 *   timestamp with time zone → the UTC wall time (`AT TIME ZONE 'UTC'`), any precision
 *   everything else          → its text form in the pinned session (DateStyle ISO, extra_float_digits 3,
 *                              bytea hex), which is already canonical: integers of any width,
 *                              timestamps of any precision, char(n) without padding, jsonb
 * Digest of a range: count(*) and the exact sum (numeric) of every row's 64-bit hash: an
 * order-independent multiset digest (duplicate rows count twice), so keyless tables compare as
 * whole-row multisets too. Values are bound as parameters; identifiers quoted with qid().
 */
import type { CompareRange, DigestRow, DigestSpec, HashKind, ObjectColumn, ObjectDescription, ObjectIndex, RangeDigest, TableRef } from '../engine.js';
import { validateRowFilter } from '../sql-filter.js';
import { keyPredicate } from './chunks.js';
import { qid, qtable, schemaOf, type PgClient } from './connection.js';

/** The normalised text of one column (SQL), NULL for NULL. `trimScale`: the server has trim_scale() (13+). */
export function normalisedValue(c: ObjectColumn, trimScale = true): string {
  const q = qid(c.name);
  const t = c.dataType.toLowerCase();
  if (t === 'numeric') {
    if (trimScale) return `trim_scale(${q})::text`;
    return `CASE WHEN position('.' in ${q}::text) > 0 THEN rtrim(rtrim(${q}::text, '0'), '.') ELSE ${q}::text END`;
  }
  if (t === 'timestamp with time zone') return `(${q} AT TIME ZONE 'UTC')::text`;
  return `${q}::text`;
}

const rowText = (cols: ObjectColumn[], trimScale: boolean) => cols.map((c) => `quote_nullable(${normalisedValue(c, trimScale)})`).join(` || ',' || `);

/** The per-row hash (`base`), its hex form and its 64-bit integer, for one hash kind. */
export function rowHash(spec: DigestSpec, trimScale = true) {
  if (spec.hash === 'pg64') {
    return {
      base: `hashtextextended((${rowText(spec.columns, trimScale)}) COLLATE "C", 0)`,
      hex: (b: string) => `lpad(to_hex(${b}), 16, '0')`,
      h64: (b: string) => b,
    };
  }
  return {
    base: `md5(convert_to(${rowText(spec.columns, trimScale)}, 'UTF8'))`,
    hex: (b: string) => b,
    h64: (b: string) => `('x' || left(${b}, 16))::bit(64)::bigint`,
  };
}

function filterSql(where: string | undefined): string | undefined {
  return where ? validateRowFilter(where, 'postgresql') : undefined;
}

class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
  key(cols: string[], values: unknown[], op: '>' | '<='): string {
    const p = keyPredicate(cols, values, op, this.values.length + 1);
    this.values.push(...p.values);
    return p.sql;
  }
}

function rangeConditions(range: CompareRange, spec: DigestSpec, p: Params, trimScale: boolean): string[] {
  const conds: string[] = [];
  if (range.keyColumns.length && range.lower) conds.push(p.key(range.keyColumns, range.lower, '>'));
  if (range.keyColumns.length && range.upper) conds.push(p.key(range.keyColumns, range.upper, '<='));
  if (range.hashPrefix) {
    if (!/^[0-9a-f]{1,32}$/.test(range.hashPrefix)) throw new Error(`Invalid hash prefix ${JSON.stringify(range.hashPrefix)}`);
    const h = rowHash(spec, trimScale);
    conds.push(`left(${h.hex(h.base)}, ${range.hashPrefix.length}) = ${p.add(range.hashPrefix)}`);
  }
  const filter = filterSql(spec.where);
  if (filter) conds.push(`(${filter})`);
  return conds;
}

const whereOf = (conds: string[]) => (conds.length ? ` WHERE ${conds.join(' AND ')}` : '');

async function hasTrimScale(client: PgClient): Promise<boolean> {
  return (await client.serverInfo()).versionNumber >= 13;
}

export async function digestRange(client: PgClient, range: CompareRange, spec: DigestSpec): Promise<RangeDigest> {
  const ts = await hasTrimScale(client);
  const p = new Params();
  const conds = rangeConditions(range, spec, p, ts);
  const h = rowHash(spec, ts);
  const [[n, sum]] = (await client.arrays(range.table.db, `SELECT count(*)::text, coalesce(sum(${h.h64(h.base)}), 0)::text FROM ${qtable(range.table)}${whereOf(conds)}`, p.values)) as [[string, string]];
  return { rows: Number(n), sum };
}

export async function digestBuckets(client: PgClient, range: CompareRange, spec: DigestSpec, split: { boundaries: unknown[][] } | { hashDigit: true }): Promise<Map<string, RangeDigest>> {
  const ts = await hasTrimScale(client);
  const p = new Params();
  const h = rowHash(spec, ts);
  let sql: string;
  if ('hashDigit' in split) {
    // OFFSET 0 keeps the subquery from being flattened, so each row is hashed once.
    if (range.hashPrefix && !/^[0-9a-f]{1,32}$/.test(range.hashPrefix)) throw new Error(`Invalid hash prefix ${JSON.stringify(range.hashPrefix)}`);
    const conds = rangeConditions({ ...range, hashPrefix: undefined }, spec, p, ts);
    const outer = range.hashPrefix ? ` WHERE left(${h.hex('h')}, ${range.hashPrefix.length}) = ${p.add(range.hashPrefix)}` : '';
    sql = `SELECT substr(${h.hex('h')}, ${(range.hashPrefix?.length ?? 0) + 1}, 1) AS _drs_bucket, count(*)::text, coalesce(sum(${h.h64('h')}), 0)::text
             FROM (SELECT ${h.base} AS h FROM ${qtable(range.table)}${whereOf(conds)} OFFSET 0) x${outer} GROUP BY 1`;
  } else {
    const whens = split.boundaries.map((b, i) => `WHEN ${p.key(range.keyColumns, b, '<=')} THEN '${i}'`);
    const bucket = whens.length ? `CASE ${whens.join(' ')} ELSE '${split.boundaries.length}' END` : `'0'`;
    const conds = rangeConditions(range, spec, p, ts);
    sql = `SELECT ${bucket} AS _drs_bucket, count(*)::text, coalesce(sum(${h.h64(h.base)}), 0)::text FROM ${qtable(range.table)}${whereOf(conds)} GROUP BY 1`;
  }
  const rows = await client.arrays(range.table.db, sql, p.values);
  return new Map(rows.map((r) => [String(r[0]), { rows: Number(r[1]), sum: String(r[2]) }]));
}

export async function splitPoints(client: PgClient, range: CompareRange, spec: DigestSpec, every: number): Promise<unknown[][]> {
  const keys = range.keyColumns;
  if (keys.length === 0) return [];
  const ts = await hasTrimScale(client);
  const p = new Params();
  const conds = rangeConditions(range, spec, p, ts);
  const cols = keys.map(qid).join(', ');
  const step = p.add(Math.max(1, Math.floor(every)));
  const rows = await client.arrays(
    range.table.db,
    `SELECT ${keys.map((k) => `${qid(k)}::text`).join(', ')} FROM (SELECT ${cols}, row_number() OVER (ORDER BY ${cols}) AS _drs_rn FROM ${qtable(range.table)}${whereOf(conds)}) x
      WHERE _drs_rn % ${step} = 0 ORDER BY ${cols}`,
    p.values,
  );
  return rows.map((r) => [...r]);
}

function toDigestRows(rows: (string | null)[][], spec: DigestSpec, keyColumns: string[]): DigestRow[] {
  const k = keyColumns.length;
  const index = keyColumns.map((c) => spec.columns.findIndex((x) => x.name === c));
  return rows.map((r) => {
    const values = r.slice(k + 1);
    const rawKey = r.slice(0, k);
    return { rawKey, key: index.map((i, j) => (i >= 0 ? (values[i] ?? 'NULL') : String(rawKey[j]))), hash: String(r[k]), values };
  });
}

function selectRows(keyColumns: string[], spec: DigestSpec, ts: boolean): string {
  const h = rowHash(spec, ts);
  return [...keyColumns.map((c) => `${qid(c)}::text`), h.hex(h.base), ...spec.columns.map((c) => normalisedValue(c, ts))].join(', ');
}

export async function readRange(client: PgClient, range: CompareRange, spec: DigestSpec, limit: number): Promise<DigestRow[]> {
  const ts = await hasTrimScale(client);
  const p = new Params();
  const conds = rangeConditions(range, spec, p, ts);
  const order = range.keyColumns.length ? range.keyColumns.map(qid).join(', ') : '1';
  const lim = p.add(Math.max(1, limit));
  const rows = await client.arrays(range.table.db, `SELECT ${selectRows(range.keyColumns, spec, ts)} FROM ${qtable(range.table)}${whereOf(conds)} ORDER BY ${order} LIMIT ${lim}`, p.values);
  return toDigestRows(rows, spec, range.keyColumns);
}

export async function readKeys(client: PgClient, table: TableRef, keyColumns: string[], keys: unknown[][], spec: DigestSpec): Promise<DigestRow[]> {
  if (keys.length === 0 || keyColumns.length === 0) return [];
  const ts = await hasTrimScale(client);
  const filter = filterSql(spec.where);
  const out: DigestRow[] = [];
  for (let i = 0; i < keys.length; i += 200) {
    const p = new Params();
    const tuples = keys.slice(i, i + 200).map((k) => `(${k.map((v) => p.add(v)).join(', ')})`);
    const rows = await client.arrays(
      table.db,
      `SELECT ${selectRows(keyColumns, spec, ts)} FROM ${qtable(table)} WHERE (${keyColumns.map(qid).join(', ')}) IN (${tuples.join(', ')})${filter ? ` AND (${filter})` : ''}`,
      p.values,
    );
    out.push(...toDigestRows(rows, spec, keyColumns));
  }
  return out;
}

/** pg64 needs the row text's bytes to be UTF-8 on both sides: offered for UTF-8 databases only. */
export async function hashKinds(client: PgClient, table: TableRef): Promise<HashKind[]> {
  const [row] = await client.arrays(client.defaultDb, 'SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = $1', [table.db]);
  return row?.[0] === 'UTF8' ? ['pg64', 'md5'] : ['md5'];
}

export async function countRows(client: PgClient, table: TableRef, where?: string): Promise<number> {
  const filter = filterSql(where);
  const [[n]] = (await client.arrays(table.db, `SELECT count(*)::text FROM ${qtable(table)}${filter ? ` WHERE ${filter}` : ''}`)) as [[string]];
  return Number(n);
}

// --- objects ------------------------------------------------------------------------------

/** `nextval('public.t_id_seq'::regclass)` and `nextval('t_id_seq'::regclass)` name the same thing in different search paths. */
function comparableDefault(def: string | null): string | undefined {
  if (def === null) return undefined;
  return def.replace(/^nextval\('(?:[^']*\.)?([^'.]+)'::regclass\)$/, "nextval('$1'::regclass)");
}

export async function describeObjects(client: PgClient, databases: { db: string; schema?: string }[], tables: TableRef[]): Promise<ObjectDescription> {
  const dbNames = [...new Set([...databases.map((d) => d.db), ...tables.map((t) => t.db)])];
  const existing = new Set((await client.arrays(client.defaultDb, 'SELECT datname FROM pg_database WHERE datname = ANY($1::text[])', [dbNames])).map((r) => String(r[0])));
  const schemasBy = new Map<string, Set<string>>();
  for (const db of dbNames.filter((d) => existing.has(d))) {
    schemasBy.set(db, new Set((await client.arrays(db, 'SELECT nspname FROM pg_namespace')).map((r) => String(r[0]))));
  }
  const out: ObjectDescription = {
    databases: databases.map((d) => ({ ...d, exists: existing.has(d.db) && (d.schema === undefined || !!schemasBy.get(d.db)?.has(d.schema)) })),
    tables: [],
  };
  for (const ref of tables) {
    if (!existing.has(ref.db)) {
      out.tables.push({ ref, exists: false, columns: [], primaryKey: [], indexes: [] });
      continue;
    }
    const [rel] = await client.arrays(ref.db, `SELECT c.oid::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`, [schemaOf(ref), ref.table]);
    if (!rel) {
      out.tables.push({ ref, exists: false, columns: [], primaryKey: [], indexes: [] });
      continue;
    }
    const oid = rel[0];
    const cols = await client.rows<{ name: string; type: string; data_type: string; notnull: string; def: string | null; generated: string }>(
      ref.db,
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, format_type(a.atttypid, NULL) AS data_type, a.attnotnull::text AS notnull,
              pg_get_expr(d.adbin, d.adrelid) AS def, a.attgenerated::text AS generated
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [oid],
    );
    const idx = await client.rows<{ name: string; uniq: string; prim: string; cols: string[] | string }>(
      ref.db,
      `SELECT i.relname AS name, x.indisunique::text AS uniq, x.indisprimary::text AS prim,
              array_to_json(ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k))::text AS cols
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::oid ORDER BY i.relname`,
      [oid],
    );
    const indexes: ObjectIndex[] = idx.map((r) => ({ name: r.name, unique: r.uniq === 'true', primary: r.prim === 'true', columns: (typeof r.cols === 'string' ? JSON.parse(r.cols) : r.cols) as string[] }));
    out.tables.push({
      ref,
      exists: true,
      columns: cols.map((c) => {
        const d = comparableDefault(c.def);
        return {
          name: c.name,
          type: c.type,
          dataType: c.data_type,
          nullable: c.notnull !== 'true',
          ...(d !== undefined && c.generated === '' ? { default: d } : {}),
          ...(c.generated === 's' ? { generated: true } : {}),
        };
      }),
      primaryKey: indexes.find((i) => i.primary)?.columns ?? [],
      indexes,
    });
  }
  return out;
}
