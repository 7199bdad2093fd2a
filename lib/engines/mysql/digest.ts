/**
 * MySQL/MariaDB side of compare (verification): catalog reads for the object compare, row counts,
 * and chunk digests computed inside the server so that agreeing rows never cross the network.
 *
 * Row hash: MD5 over the row's values, each normalised to text and QUOTE()d (NULL → the bare
 * word NULL, a value → a quoted, escaped string, so NULL, '' and 'NULL' all differ and no value
 * can imitate a column boundary), joined with commas. Normalisation makes equal data hash the same:
 *   integers, YEAR, BIT       → decimal text (BIT via +0), so INT vs BIGINT or BIT(8) vs BIT(16) agree
 *   DECIMAL                   → decimal text without trailing fractional zeros (1.50 = 1.5 = 1.500)
 *   FLOAT                     → the exact single value as a double (col + 0); DOUBLE → its text
 *   DATETIME, TIMESTAMP       → 'YYYY-MM-DD hh:mm:ss.ffffff' in UTC (sessions run at +00:00), any fsp
 *   TIME                      → 'hh:mm:ss.ffffff'; DATE → 'YYYY-MM-DD'
 *   CHAR/VARCHAR/TEXT/ENUM/SET → the characters in utf8mb4, whatever the column's charset
 *   JSON (MySQL)              → the server's canonical text
 *   BINARY/VARBINARY/BLOB, spatial → hex of the bytes
 * Digest of a range: COUNT(*) and the exact SUM of the first 64 bits of every row hash, an
 * order-independent multiset digest (duplicate rows count twice), so keyless tables compare as
 * whole-row multisets too. Values are bound as parameters; identifiers quoted with qid().
 */
import type { CompareRange, DigestRow, DigestSpec, HashKind, ObjectColumn, ObjectDescription, ObjectIndex, ObjectTable, RangeDigest, TableRef } from '../engine.js';
import { validateRowFilter } from '../sql-filter.js';
import { keyPredicate } from './chunks.js';
import { qid, qtable, toDriverValue, toJsonValue, versionParts, type MySqlClient } from './connection.js';

const INTEGER = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year']);
const TEXT = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);
const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection']);

/** The normalised text of one column (SQL), NULL for NULL. */
export function normalisedValue(c: ObjectColumn): string {
  const q = qid(c.name);
  const t = c.dataType.toLowerCase();
  if (INTEGER.has(t)) return `CAST(${q} AS CHAR)`;
  if (t === 'bit') return `CAST(${q} + 0 AS CHAR)`;
  if (t === 'decimal' || t === 'numeric') {
    const s = `CAST(${q} AS CHAR)`;
    return `IF(LOCATE('.', ${s}) > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM ${s})), ${s})`;
  }
  if (t === 'float') return `CAST(${q} + 0 AS CHAR)`;
  if (t === 'double' || t === 'real') return `CAST(${q} AS CHAR)`;
  if (t === 'datetime' || t === 'timestamp') return `DATE_FORMAT(${q}, '%Y-%m-%d %H:%i:%s.%f')`;
  if (t === 'time') return `TIME_FORMAT(${q}, '%H:%i:%s.%f')`;
  if (TEXT.has(t)) return `CONVERT(${q} USING utf8mb4)`;
  if (BINARY.has(t)) return `HEX(${q})`;
  return `CAST(${q} AS CHAR)`;
}

/** One column's part of the row text: QUOTE of its normalised bytes (binary, so collations never mix). */
const quoted = (c: ObjectColumn) => `QUOTE(CAST(${normalisedValue(c)} AS BINARY))`;

/** MD5 (hex) over the normalised row. */
export function rowHash(cols: ObjectColumn[]): string {
  return `MD5(CONCAT_WS(',', ${cols.map(quoted).join(', ')}))`;
}

/** The first 64 bits of a row hash as an unsigned integer: summed exactly (DECIMAL) by SUM(). */
const hash64 = (h: string) => `CAST(CONV(LEFT(${h}, 16), 16, 10) AS UNSIGNED)`;

function filterSql(where: string | undefined): string | undefined {
  return where ? validateRowFilter(where, 'mysql') : undefined;
}

/** WHERE conditions of a range (key bounds, hash bucket, row filter) and their values. */
function rangeConditions(range: CompareRange, spec: DigestSpec): { conds: string[]; values: unknown[] } {
  const conds: string[] = [];
  const values: unknown[] = [];
  if (range.keyColumns.length && range.lower) {
    const p = keyPredicate(range.keyColumns, range.lower, '>');
    conds.push(p.sql);
    values.push(...p.values);
  }
  if (range.keyColumns.length && range.upper) {
    const p = keyPredicate(range.keyColumns, range.upper, '<=');
    conds.push(p.sql);
    values.push(...p.values);
  }
  if (range.hashPrefix) {
    if (!/^[0-9a-f]{1,32}$/.test(range.hashPrefix)) throw new Error(`Invalid hash prefix ${JSON.stringify(range.hashPrefix)}`);
    conds.push(`LEFT(${rowHash(spec.columns)}, ${range.hashPrefix.length}) = ?`);
    values.push(range.hashPrefix);
  }
  const filter = filterSql(spec.where);
  if (filter) conds.push(`(${filter})`);
  return { conds, values };
}

const whereOf = (conds: string[]) => (conds.length ? ` WHERE ${conds.join(' AND ')}` : '');

export async function digestRange(client: MySqlClient, range: CompareRange, spec: DigestSpec): Promise<RangeDigest> {
  const { conds, values } = rangeConditions(range, spec);
  const { rows } = await client.arrays(`SELECT COUNT(*), CAST(COALESCE(SUM(${hash64(rowHash(spec.columns))}), 0) AS CHAR) FROM ${qtable(range.table)}${whereOf(conds)}`, values);
  return { rows: Number(rows[0]![0]), sum: String(rows[0]![1]) };
}

export async function digestBuckets(
  client: MySqlClient,
  range: CompareRange,
  spec: DigestSpec,
  split: { boundaries: unknown[][] } | { hashDigit: true },
): Promise<Map<string, RangeDigest>> {
  const { conds, values } = rangeConditions(range, spec);
  const h = rowHash(spec.columns);
  let bucket: string;
  const bucketValues: unknown[] = [];
  if ('hashDigit' in split) {
    bucket = `SUBSTRING(${h}, ${(range.hashPrefix?.length ?? 0) + 1}, 1)`;
  } else {
    if (split.boundaries.length === 0) bucket = `'0'`;
    else {
      const whens = split.boundaries.map((b, i) => {
        const p = keyPredicate(range.keyColumns, b, '<=');
        bucketValues.push(...p.values);
        return `WHEN ${p.sql} THEN '${i}'`;
      });
      bucket = `CASE ${whens.join(' ')} ELSE '${split.boundaries.length}' END`;
    }
  }
  const { rows } = await client.arrays(
    `SELECT ${bucket} AS _drs_bucket, COUNT(*), CAST(COALESCE(SUM(${hash64(h)}), 0) AS CHAR) FROM ${qtable(range.table)}${whereOf(conds)} GROUP BY 1`,
    [...bucketValues, ...values],
  );
  return new Map(rows.map((r) => [String(r[0]), { rows: Number(r[1]), sum: String(r[2]) }]));
}

async function windowFunctions(client: MySqlClient): Promise<boolean> {
  const info = await client.serverInfo();
  const [major, minor] = versionParts(info.version);
  return info.flavor === 'mariadb' ? major > 10 || (major === 10 && minor >= 2) : major >= 8;
}

export async function splitPoints(client: MySqlClient, range: CompareRange, spec: DigestSpec, every: number): Promise<unknown[][]> {
  const keys = range.keyColumns;
  if (keys.length === 0) return [];
  const n = Math.max(1, Math.floor(every));
  const cols = keys.map(qid).join(', ');
  if (await windowFunctions(client)) {
    const { conds, values } = rangeConditions(range, spec);
    const { rows } = await client.arrays(
      `SELECT ${cols} FROM (SELECT ${cols}, ROW_NUMBER() OVER (ORDER BY ${cols}) AS _drs_rn FROM ${qtable(range.table)}${whereOf(conds)}) _drs_x WHERE MOD(_drs_rn, ?) = 0 ORDER BY ${cols}`,
      [...values, n],
    );
    return rows.map((r) => r.map(toJsonValue));
  }
  // MySQL 5.7: no window functions; walk the key index n rows at a time.
  const out: unknown[][] = [];
  let lower = range.lower;
  for (;;) {
    const { conds, values } = rangeConditions({ ...range, lower }, spec);
    const { rows } = await client.arrays(`SELECT ${cols} FROM ${qtable(range.table)}${whereOf(conds)} ORDER BY ${cols} LIMIT 1 OFFSET ?`, [...values, n - 1]);
    if (!rows[0]) return out;
    const key = rows[0].map(toJsonValue);
    out.push(key);
    lower = key;
  }
}

function toDigestRows(rows: unknown[][], spec: DigestSpec, keyColumns: string[]): DigestRow[] {
  const k = keyColumns.length;
  const index = keyColumns.map((c) => spec.columns.findIndex((x) => x.name === c));
  return rows.map((r) => {
    const values = r.slice(k + 1).map((v) => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
    const rawKey = r.slice(0, k).map(toJsonValue);
    return { rawKey, key: index.map((i, j) => (i >= 0 ? (values[i] ?? 'NULL') : String(rawKey[j]))), hash: String(r[k]), values };
  });
}

function selectRows(range: CompareRange, spec: DigestSpec): string {
  const keys = range.keyColumns.map(qid);
  return [...keys, rowHash(spec.columns), ...spec.columns.map(normalisedValue)].join(', ');
}

export async function readRange(client: MySqlClient, range: CompareRange, spec: DigestSpec, limit: number): Promise<DigestRow[]> {
  const { conds, values } = rangeConditions(range, spec);
  const order = range.keyColumns.length ? range.keyColumns.map(qid).join(', ') : '1';
  const { rows } = await client.arrays(`SELECT ${selectRows(range, spec)} FROM ${qtable(range.table)}${whereOf(conds)} ORDER BY ${order} LIMIT ?`, [...values, Math.max(1, limit)]);
  return toDigestRows(rows, spec, range.keyColumns);
}

export async function readKeys(client: MySqlClient, table: TableRef, keyColumns: string[], keys: unknown[][], spec: DigestSpec): Promise<DigestRow[]> {
  if (keys.length === 0 || keyColumns.length === 0) return [];
  const out: DigestRow[] = [];
  const filter = filterSql(spec.where);
  for (let i = 0; i < keys.length; i += 200) {
    const batch = keys.slice(i, i + 200);
    const values: unknown[] = [];
    const ors = batch.map((k) => {
      values.push(...k.map(toDriverValue));
      return `(${keyColumns.map((c) => `${qid(c)} = ?`).join(' AND ')})`;
    });
    const { rows } = await client.arrays(
      `SELECT ${selectRows({ table, keyColumns }, spec)} FROM ${qtable(table)} WHERE (${ors.join(' OR ')})${filter ? ` AND (${filter})` : ''}`,
      values,
    );
    out.push(...toDigestRows(rows, spec, keyColumns));
  }
  return out;
}

/** MD5 everywhere: MySQL and MariaDB share no faster 64-bit hash. */
export async function hashKinds(_client: MySqlClient, _table: TableRef): Promise<HashKind[]> {
  return ['md5'];
}

export async function countRows(client: MySqlClient, table: TableRef, where?: string): Promise<number> {
  const filter = filterSql(where);
  const { rows } = await client.arrays(`SELECT COUNT(*) FROM ${qtable(table)}${filter ? ` WHERE ${filter}` : ''}`);
  return Number(rows[0]![0]);
}

// --- objects ------------------------------------------------------------------------------

/** `int(11)` → `int`, `tinyint(4) unsigned` → `tinyint unsigned`: display widths do not change the data (MySQL 8.0.19 drops them). */
export function comparableType(columnType: string): string {
  return columnType.toLowerCase().replace(/^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)/, '$1').replace(/\s+/g, ' ').trim();
}

/** COLUMN_DEFAULT as one comparable SQL expression on MySQL and MariaDB alike. */
export function comparableDefault(def: string | null, dataType: string, extra: string, mariadb: boolean): string | undefined {
  if (def === null || def === undefined) return undefined;
  let expr: string;
  if (mariadb) {
    if (def === 'NULL') return undefined;
    expr = def;
  } else if (/DEFAULT_GENERATED/i.test(extra)) {
    expr = def;
  } else if (/^(tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|float|double|real|bit|year)$/i.test(dataType) || /^b'[01]*'$/.test(def)) {
    expr = def;
  } else {
    expr = `'${def.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  }
  return expr.replace(/^(current_timestamp|now|localtime|localtimestamp)(\(\))?/i, 'current_timestamp').replace(/^'(-?\d+(\.\d+)?)'$/, '$1');
}

interface ColumnRow {
  db: string;
  tbl: string;
  name: string;
  type: string;
  dataType: string;
  nullable: string;
  def: string | null;
  extra: string;
}

export async function describeObjects(client: MySqlClient, databases: { db: string; schema?: string }[], tables: TableRef[]): Promise<ObjectDescription> {
  const info = await client.serverInfo();
  const mariadb = info.flavor === 'mariadb';
  const dbNames = [...new Set([...databases.map((d) => d.db), ...tables.map((t) => t.db)])];
  const existingDbs = new Set(
    dbNames.length
      ? (await client.arrays(`SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (${dbNames.map(() => '?').join(', ')})`, dbNames)).rows.map((r) => String(r[0]))
      : [],
  );
  const out: ObjectDescription = { databases: databases.map((d) => ({ db: d.db, exists: existingDbs.has(d.db) })), tables: [] };
  if (tables.length === 0) return out;
  const pairs = tables.map(() => '(?, ?)').join(', ');
  const pv = tables.flatMap((t) => [t.db, t.table]);
  const key = (db: string, t: string) => `${db}\u0000${t}`;
  const found = new Set(
    (await client.arrays(`SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND (TABLE_SCHEMA, TABLE_NAME) IN (${pairs})`, pv)).rows.map((r) => key(String(r[0]), String(r[1]))),
  );
  const columns = await client.rows<ColumnRow>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS type, DATA_TYPE AS dataType, IS_NULLABLE AS nullable,
            COLUMN_DEFAULT AS def, EXTRA AS extra
       FROM information_schema.COLUMNS WHERE (TABLE_SCHEMA, TABLE_NAME) IN (${pairs}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    pv,
  );
  const stats = await client.rows<{ db: string; tbl: string; name: string; nonUnique: string | number; col: string | null }>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS nonUnique, COLUMN_NAME AS col
       FROM information_schema.STATISTICS WHERE (TABLE_SCHEMA, TABLE_NAME) IN (${pairs}) ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    pv,
  );
  for (const ref of tables) {
    const k = key(ref.db, ref.table);
    if (!found.has(k)) {
      out.tables.push({ ref, exists: false, columns: [], primaryKey: [], indexes: [] });
      continue;
    }
    const cols: ObjectColumn[] = columns
      .filter((c) => key(c.db, c.tbl) === k)
      .map((c) => {
        const d = comparableDefault(c.def, c.dataType, c.extra, mariadb);
        return {
          name: c.name,
          type: comparableType(c.type),
          dataType: c.dataType.toLowerCase(),
          nullable: c.nullable === 'YES',
          ...(d !== undefined ? { default: d } : {}),
          ...(/\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i.test(c.extra) ? { generated: true } : {}),
        };
      });
    const indexes: ObjectIndex[] = [];
    for (const s of stats.filter((x) => key(x.db, x.tbl) === k)) {
      let ix = indexes.find((i) => i.name === s.name);
      if (!ix) {
        ix = { name: s.name, columns: [], unique: Number(s.nonUnique) === 0, primary: s.name === 'PRIMARY' };
        indexes.push(ix);
      }
      ix.columns.push(s.col ?? '');
    }
    const table: ObjectTable = { ref, exists: true, columns: cols, primaryKey: indexes.find((i) => i.primary)?.columns ?? [], indexes };
    out.tables.push(table);
  }
  return out;
}
