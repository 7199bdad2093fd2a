/**
 * MySQL/MariaDB schema: read tables from information_schema plus SHOW CREATE TABLE, and recreate
 * them on the target under their mapped names.
 *
 * The target DDL is the source's own SHOW CREATE TABLE with the name rewritten, so types,
 * charsets, collations, defaults, generated columns, CHECK constraints, partitioning and table
 * options come across exactly. With `deferSecondaryIndexes` the non-unique indexes and the
 * foreign keys are held back for createSecondaryIndexes (bulk load first, index build after, as
 * mysqldump/myloader do). Foreign keys always come last, after every table exists, and point at
 * the mapped target table when the referenced table is part of the same apply.
 *
 * Column renames and drops (SchemaApply.columns) are applied to that text: column definitions,
 * keys, generated expressions, CHECK constraints, foreign keys and partitioning name the target
 * columns; an index, foreign key or CHECK over a dropped column is left out.
 *
 * Idempotent: an existing target table with the same columns and primary key is kept; indexes and
 * foreign keys it lacks are added; a target table with a different structure is an error.
 */
import { logger } from '../../logger.js';
import { isEmptyMap, mapTableSchema, targetColumn } from '../column-map.js';
import type { ColumnMap, DbObjects, IndexSchema, SchemaApply, TableRef, TableSchema } from '../engine.js';
import { FatalEngineError } from '../engine.js';
import { qid, qtable, type MySqlClient } from './connection.js';

export const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

const key = (db: string, table: string) => `${db}\u0000${table}`;

/** `(?, ?), (?, ?)` for a (schema, table) IN list, and its values. */
function pairs(tables: TableRef[]): { sql: string; values: string[] } {
  return { sql: tables.map(() => '(?, ?)').join(', '), values: tables.flatMap((t) => [t.db, t.table]) };
}

/** utf8mb4_general_ci → utf8mb4 (also for MariaDB's uca1400 names, which apply to several charsets). */
function charsetOf(collation: string | null | undefined): string | undefined {
  if (!collation) return undefined;
  return collation === 'binary' ? 'binary' : collation.split('_')[0];
}

const NUMERIC = /^(tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|float|double|real|bit|bool|boolean|year)$/i;

/** COLUMN_DEFAULT as an SQL expression: MariaDB already gives one; MySQL gives the bare value. */
function defaultExpr(def: string | null, dataType: string, extra: string, mariadb: boolean): string | undefined {
  if (def === null || def === undefined) return undefined;
  if (mariadb) return def === 'NULL' ? undefined : def;
  if (/DEFAULT_GENERATED/i.test(extra)) return /^(CURRENT_TIMESTAMP|NOW|LOCALTIME)/i.test(def) ? def : `(${def})`;
  if (NUMERIC.test(dataType) || /^b'[01]*'$/.test(def)) return def;
  return `'${def.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

interface TableRow {
  db: string;
  name: string;
  type: string;
  engine: string | null;
  tableRows: string | number | null;
  dataLength: string | number | null;
  collation: string | null;
  comment: string | null;
  autoIncrement: string | number | null;
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
  charset: string | null;
  collation: string | null;
  comment: string;
}
interface IndexRow {
  db: string;
  tbl: string;
  name: string;
  nonUnique: number | string;
  col: string | null;
  nullable: string;
}

/** Read the selected tables, in the order asked. A missing table (or one the user cannot see) is an error. */
export async function readSchema(client: MySqlClient, tables: TableRef[]): Promise<TableSchema[]> {
  if (tables.length === 0) return [];
  const info = await client.serverInfo();
  const mariadb = info.flavor === 'mariadb';
  const p = pairs(tables);
  const tableRows = await client.rows<TableRow>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine, TABLE_ROWS AS tableRows, DATA_LENGTH AS dataLength,
            TABLE_COLLATION AS collation, TABLE_COMMENT AS comment, AUTO_INCREMENT AS autoIncrement
       FROM information_schema.TABLES WHERE (TABLE_SCHEMA, TABLE_NAME) IN (${p.sql})`,
    p.values,
  );
  const columnRows = await client.rows<ColumnRow>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS type, DATA_TYPE AS dataType, IS_NULLABLE AS nullable,
            COLUMN_DEFAULT AS def, EXTRA AS extra, CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation, COLUMN_COMMENT AS comment
       FROM information_schema.COLUMNS WHERE (TABLE_SCHEMA, TABLE_NAME) IN (${p.sql}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    p.values,
  );
  const indexRows = await client.rows<IndexRow>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS nonUnique, COLUMN_NAME AS col, NULLABLE AS nullable
       FROM information_schema.STATISTICS WHERE (TABLE_SCHEMA, TABLE_NAME) IN (${p.sql}) ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    p.values,
  );
  const dbs = [...new Set(tables.map((t) => t.db))];
  const dbRows = await client.rows<{ name: string; charset: string; collation: string }>(
    `SELECT SCHEMA_NAME AS name, DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (${dbs.map(() => '?').join(', ')})`,
    dbs,
  );
  const tablesBy = new Map(tableRows.map((r) => [key(r.db, r.name), r]));
  const out: TableSchema[] = [];
  for (const ref of tables) {
    const t = tablesBy.get(key(ref.db, ref.table));
    if (!t) throw new FatalEngineError(`Table ${ref.db}.${ref.table} does not exist on the source, or the user cannot see it.`);
    if (t.type !== 'BASE TABLE') throw new FatalEngineError(`${ref.db}.${ref.table} is a ${t.type.toLowerCase()}, not a table; only tables can be migrated.`);
    const cols = columnRows.filter((c) => c.db === t.db && c.tbl === t.name);
    const idx = indexRows.filter((i) => i.db === t.db && i.tbl === t.name);
    const indexes: IndexSchema[] = [];
    for (const r of idx) {
      let ix = indexes.find((i) => i.name === r.name);
      if (!ix) {
        ix = { name: r.name, columns: [], unique: Number(r.nonUnique) === 0, primary: r.name === 'PRIMARY' };
        indexes.push(ix);
      }
      ix.columns.push(r.col ?? '');
    }
    indexes.sort((a, b) => Number(b.primary) - Number(a.primary) || Number(b.unique) - Number(a.unique) || a.name.localeCompare(b.name));
    const { rows: created } = await client.arrays(`SHOW CREATE TABLE ${qtable(ref)}`);
    const createTable = String(created[0]![1]);
    const db = dbRows.find((d) => d.name === t.db);
    out.push({
      ref: { db: t.db, table: t.name },
      columns: cols.map((c) => ({
        name: c.name,
        type: c.type,
        nullable: c.nullable === 'YES',
        ...(defaultExpr(c.def, c.dataType, c.extra, mariadb) !== undefined ? { default: defaultExpr(c.def, c.dataType, c.extra, mariadb) } : {}),
        ...(/auto_increment/i.test(c.extra) ? { autoIncrement: true } : {}),
        ...(c.charset ? { charset: c.charset } : {}),
        ...(c.collation ? { collation: c.collation } : {}),
        ...(c.comment ? { comment: c.comment } : {}),
      })),
      primaryKey: indexes.find((i) => i.primary)?.columns ?? [],
      indexes,
      charset: charsetOf(t.collation),
      collation: t.collation ?? undefined,
      estimatedRows: Number(t.tableRows ?? 0),
      estimatedBytes: Number(t.dataLength ?? 0),
      native: {
        createTable,
        engine: t.engine,
        dbCharset: db?.charset,
        dbCollation: db?.collation,
        generatedColumns: cols.filter((c) => isGenerated(c.extra)).map((c) => c.name),
        dataTypes: Object.fromEntries(cols.map((c) => [c.name, c.dataType.toLowerCase()])),
        ...(t.comment ? { comment: t.comment } : {}),
      },
    });
  }
  return out;
}

export function isGenerated(extra: string): boolean {
  return /\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i.test(extra);
}

/** Columns a copy reads and writes: every column except generated ones, in table order. */
export async function copyColumns(client: MySqlClient, ref: TableRef): Promise<{ name: string; dataType: string }[]> {
  const rows = await client.rows<{ name: string; dataType: string; extra: string }>(
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [ref.db, ref.table],
  );
  if (rows.length === 0) throw new FatalEngineError(`Table ${ref.db}.${ref.table} does not exist, or the user cannot see it.`);
  return rows.filter((r) => !isGenerated(r.extra)).map((r) => ({ name: r.name, dataType: r.dataType.toLowerCase() }));
}

// ---------------------------------------------------------------------------------------------
// SHOW CREATE TABLE, taken apart

type Part = { kind: 'column' | 'primary' | 'unique' | 'index' | 'foreign' | 'other'; name?: string; text: string };

/** Read a backtick identifier starting at `s[i] === '`'`; returns the name and the index after it. */
function readQuoted(s: string, i: number): { name: string; end: number } | undefined {
  if (s[i] !== '`') return undefined;
  let name = '';
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '`') {
      if (s[j + 1] === '`') {
        name += '`';
        j++;
        continue;
      }
      return { name, end: j + 1 };
    }
    name += s[j];
  }
  return undefined;
}

export function splitCreateTable(ddl: string, table: string): { parts: Part[]; tail: string } {
  const header = `CREATE TABLE ${qid(table)} (\n`;
  if (!ddl.startsWith(header)) throw new FatalEngineError(`Unexpected SHOW CREATE TABLE output for ${table}; cannot rewrite it.`);
  const rest = ddl.slice(header.length);
  const tailAt = rest.search(/\n\)/);
  if (tailAt < 0) throw new FatalEngineError(`Unexpected SHOW CREATE TABLE output for ${table}; cannot find its end.`);
  const lines = rest.slice(0, tailAt).split('\n');
  const items: string[] = [];
  for (const line of lines) {
    if (line.startsWith('  ') && !line.startsWith('   ')) items.push(line.slice(2));
    else if (items.length) items[items.length - 1] += '\n' + line;
    else items.push(line);
  }
  const parts = items.map((raw): Part => {
    const text = raw.replace(/,$/, '');
    if (text.startsWith('`')) return { kind: 'column', name: readQuoted(text, 0)?.name, text };
    if (text.startsWith('PRIMARY KEY')) return { kind: 'primary', name: 'PRIMARY', text };
    const m = /^(UNIQUE KEY|UNIQUE INDEX|UNIQUE|KEY|INDEX|FULLTEXT KEY|FULLTEXT INDEX|SPATIAL KEY|SPATIAL INDEX|VECTOR KEY|VECTOR INDEX|CONSTRAINT) /.exec(text);
    if (m) {
      const name = readQuoted(text, m[0].length)?.name;
      if (m[1] === 'CONSTRAINT') {
        const after = text.slice(m[0].length + (name !== undefined ? qid(name).length : 0)).trimStart();
        if (after.startsWith('FOREIGN KEY')) return { kind: 'foreign', name, text };
        if (after.startsWith('UNIQUE')) return { kind: 'unique', name, text };
        return { kind: 'other', name, text };
      }
      return { kind: m[1]!.startsWith('UNIQUE') ? 'unique' : 'index', name, text };
    }
    return { kind: 'other', text };
  });
  return { parts, tail: rest.slice(tailAt + 1) };
}

type Apply = SchemaApply;

/**
 * Rename the backtick identifiers of `text` that are renamed source columns (strings and the first
 * identifier when `skipFirst`, an index or constraint name, are left as they are). `dropped`: the
 * dropped columns the text refers to.
 */
export function renameIdentifiers(text: string, map: ColumnMap | undefined, skipFirst = false): { text: string; dropped: string[] } {
  if (isEmptyMap(map)) return { text, dropped: [] };
  let out = '';
  const dropped: string[] = [];
  let first = skipFirst;
  for (let i = 0; i < text.length; ) {
    const ch = text[i]!;
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === '\\') j += 2;
        else if (text[j] === ch && text[j + 1] === ch) j += 2;
        else if (text[j] === ch) break;
        else j++;
      }
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '`') {
      const q = readQuoted(text, i);
      if (!q) throw new FatalEngineError(`Unexpected identifier in SHOW CREATE TABLE output: ${text.slice(i, i + 80)}`);
      const name = q.name;
      if (first) out += text.slice(i, q.end);
      else {
        const t = targetColumn(map, name);
        if (t === undefined) dropped.push(name);
        out += t === undefined || t === name ? text.slice(i, q.end) : qid(t);
      }
      first = false;
      i = q.end;
      continue;
    }
    out += ch;
    i++;
  }
  return { text: out, dropped };
}

/**
 * The parts of the table's CREATE TABLE as the target gets them: dropped columns gone, renamed ones
 * under their target names in columns, keys, generated expressions, CHECK constraints, foreign keys
 * (a referenced table's own renames too) and partitioning. An index, foreign key or CHECK
 * constraint over a dropped column is left out and logged; a generated column or partitioning
 * over one cannot be created and is an error.
 */
function mappedCreateTable(item: Apply, all: Apply[], report = false): { parts: Part[]; tail: string } {
  const split = splitCreateTable(sourceDdl(item.schema), item.schema.ref.table);
  const map = item.columns;
  const refersMapped = (p: Part) => p.kind === 'foreign' && !isEmptyMap(referencedMap(p.text.slice(p.text.indexOf(' REFERENCES ')), item, all));
  // A foreign key follows the renames of the table it references too.
  if (isEmptyMap(map) && !split.parts.some(refersMapped)) return split;
  const where = `${item.schema.ref.db}.${item.schema.ref.table}`;
  const parts: Part[] = [];
  for (const p of split.parts) {
    if (p.kind === 'column') {
      const head = readQuoted(p.text, 0)!;
      const name = targetColumn(map, head.name);
      if (name === undefined) continue;
      const rest = renameIdentifiers(p.text.slice(head.end), map);
      if (rest.dropped.length) throw new FatalEngineError(`Column ${head.name} of ${where} is computed from the dropped column ${rest.dropped[0]}; keep that column or drop this one too.`);
      parts.push({ ...p, name, text: qid(name) + rest.text });
      continue;
    }
    const named = p.kind !== 'primary' && p.name !== undefined;
    let text: string;
    let dropped: string[];
    if (p.kind === 'foreign') {
      const at = p.text.indexOf(' REFERENCES ');
      const local = renameIdentifiers(p.text.slice(0, at), map, named);
      const refText = p.text.slice(at);
      const open = refText.indexOf(' (');
      const referenced = referencedMap(refText, item, all);
      const remote = renameIdentifiers(refText.slice(open), referenced);
      text = local.text + refText.slice(0, open) + remote.text;
      dropped = [...local.dropped, ...remote.dropped];
    } else {
      ({ text, dropped } = renameIdentifiers(p.text, map, named));
    }
    if (dropped.length) {
      if (report) logger.warn('left out of the target table: it uses a dropped column', { table: qtable(item.target), definition: p.text.slice(0, 200), column: dropped[0] });
      continue;
    }
    parts.push({ ...p, text });
  }
  const tail = renameIdentifiers(split.tail, map);
  if (tail.dropped.length) throw new FatalEngineError(`The partitioning of ${where} uses the dropped column ${tail.dropped[0]}; keep that column.`);
  return { parts, tail: tail.text };
}

/** The column map of the table a foreign key (`REFERENCES ...` text) points at, when it is part of this apply. */
function referencedMap(refText: string, item: Apply, all: Apply[]): ColumnMap | undefined {
  const i = ' REFERENCES '.length;
  const first = readQuoted(refText, i);
  if (!first) return undefined;
  let db = item.schema.ref.db;
  let table = first.name;
  if (refText[first.end] === '.') {
    const second = readQuoted(refText, first.end + 1);
    if (!second) return undefined;
    db = first.name;
    table = second.name;
  }
  return all.find((a) => a.schema.ref.db === db && a.schema.ref.table === table)?.columns;
}

function sourceDdl(schema: TableSchema): string {
  const ddl = schema.native?.createTable;
  if (typeof ddl !== 'string') throw new FatalEngineError(`The schema of ${schema.ref.db}.${schema.ref.table} was not read from MySQL (no SHOW CREATE TABLE).`);
  return ddl;
}

/** Point `REFERENCES db.t` / `REFERENCES t` at the mapped target when t is part of this apply. */
function rewriteForeignKey(text: string, from: TableRef, all: Apply[]): string {
  const at = text.indexOf(' REFERENCES ');
  if (at < 0) return text;
  let i = at + ' REFERENCES '.length;
  const first = readQuoted(text, i);
  if (!first) return text;
  let db = from.db;
  let table = first.name;
  i = first.end;
  if (text[i] === '.') {
    const second = readQuoted(text, i + 1);
    if (!second) return text;
    db = first.name;
    table = second.name;
    i = second.end;
  }
  const mapped = all.find((a) => a.schema.ref.db === db && a.schema.ref.table === table);
  if (!mapped) return text;
  return text.slice(0, at) + ' REFERENCES ' + qtable(mapped.target) + text.slice(i);
}

/** Types compared when deciding whether an existing target table is "the same": int display widths and utf8/utf8mb3 aside. */
function sameType(a: string, b: string): boolean {
  const norm = (t: string) => t.toLowerCase().replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, '$1').replace(/\butf8mb3\b/g, 'utf8').trim();
  return norm(a) === norm(b);
}

async function existingTable(client: MySqlClient, ref: TableRef): Promise<TableSchema | undefined> {
  const [found] = await client.rows('SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [ref.db, ref.table]);
  return found ? (await readSchema(client, [ref]))[0] : undefined;
}

function assertSameStructure(source: TableSchema, target: TableSchema, ref: TableRef): void {
  const a = source.columns.map((c) => `${c.name}:${c.nullable}`);
  const b = target.columns.map((c) => `${c.name}:${c.nullable}`);
  const typesDiffer = source.columns.some((c, i) => !target.columns[i] || !sameType(c.type, target.columns[i]!.type));
  if (a.join('|') !== b.join('|') || typesDiffer || source.primaryKey.join('|') !== target.primaryKey.join('|')) {
    throw new FatalEngineError(
      `Target table ${ref.db}.${ref.table} already exists with a different structure (columns or primary key differ from ${source.ref.db}.${source.ref.table}). Drop or rename it, or map the table to another name.`,
    );
  }
}

async function createDatabase(client: MySqlClient, db: string, schema: TableSchema): Promise<void> {
  const cs = schema.native?.dbCharset as string | undefined;
  const coll = schema.native?.dbCollation as string | undefined;
  try {
    await client.exec(`CREATE DATABASE IF NOT EXISTS ${qid(db)}${cs ? ` CHARACTER SET ${qid(cs)}` : ''}${coll ? ` COLLATE ${qid(coll)}` : ''}`);
  } catch (e) {
    // The source's default collation may not exist on the target (MySQL 8 → MariaDB); tables carry their own.
    if (!/1273|1115|Unknown (collation|character set)/i.test((e as Error).message)) throw e;
    await client.exec(`CREATE DATABASE IF NOT EXISTS ${qid(db)}`);
  }
}

/** Indexes and foreign keys the target lacks, as ALTER TABLE clauses. */
async function missingClauses(client: MySqlClient, item: Apply, all: Apply[], kinds: Part['kind'][]): Promise<string[]> {
  const { parts } = mappedCreateTable(item, all);
  const wanted = parts.filter((p) => kinds.includes(p.kind));
  if (wanted.length === 0) return [];
  // Index names and foreign key names are separate namespaces (a foreign key's own index usually shares its name).
  const indexes = new Set(
    (await client.rows<{ name: string }>('SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [item.target.db, item.target.table])).map((r) => r.name),
  );
  const foreign = new Set(
    (
      await client.rows<{ name: string }>(
        "SELECT CONSTRAINT_NAME AS name FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_TYPE = 'FOREIGN KEY'",
        [item.target.db, item.target.table],
      )
    ).map((r) => r.name),
  );
  return wanted
    .map((p) => (p.kind === 'foreign' ? followTable(p, item) : p))
    .filter((p) => p.name === undefined || !(p.kind === 'foreign' ? foreign : indexes).has(p.name))
    .map((p) => `ADD ${p.kind === 'foreign' ? rewriteForeignKey(p.text, item.schema.ref, all) : p.text}`);
}

/**
 * Foreign key names are unique per database in InnoDB: one named after its table (`t_ibfk_1`)
 * follows a renamed table, so a copy next to its source does not collide.
 */
function followTable(p: Part, item: Apply): Part {
  const from = item.schema.ref.table;
  const to = item.target.table;
  if (!p.name || from === to || !p.name.startsWith(from)) return p;
  const name = (to + p.name.slice(from.length)).slice(0, 64);
  return { ...p, name, text: p.text.replace(`CONSTRAINT ${qid(p.name)}`, `CONSTRAINT ${qid(name)}`) };
}

export async function applySchema(client: MySqlClient, tables: Apply[], opts: { deferSecondaryIndexes: boolean }): Promise<void> {
  const createdDbs = new Set<string>();
  for (const item of tables) {
    const { schema, target } = item;
    if (!createdDbs.has(target.db)) {
      await createDatabase(client, target.db, schema);
      createdDbs.add(target.db);
    }
    const existing = await existingTable(client, target);
    if (existing) {
      assertSameStructure(mapTableSchema(schema, item.columns).schema, existing, target);
      const clauses = await missingClauses(client, item, tables, opts.deferSecondaryIndexes ? ['unique'] : ['unique', 'index']);
      if (clauses.length) await client.exec(`ALTER TABLE ${qtable(target)} ${clauses.join(', ')}`);
      continue;
    }
    const { parts, tail } = mappedCreateTable(item, tables, true);
    const keep = parts.filter((p) => p.kind !== 'foreign' && !(opts.deferSecondaryIndexes && p.kind === 'index'));
    await client.exec(`CREATE TABLE ${qtable(target)} (\n${keep.map((p) => `  ${p.text}`).join(',\n')}\n${tail}`);
  }
  // Foreign keys once every table exists (foreign_key_checks is off in our sessions).
  if (!opts.deferSecondaryIndexes) await addClauses(client, tables, ['foreign']);
}

async function addClauses(client: MySqlClient, tables: Apply[], kinds: Part['kind'][]): Promise<void> {
  for (const item of tables) {
    const clauses = await missingClauses(client, item, tables, kinds);
    if (clauses.length) await client.exec(`ALTER TABLE ${qtable(item.target)} ${clauses.join(', ')}`);
  }
}

/** Add the secondary indexes (one ALTER per table, so one rebuild), then the foreign keys. */
export async function createSecondaryIndexes(client: MySqlClient, tables: Apply[]): Promise<void> {
  await addClauses(client, tables, ['index']);
  await addClauses(client, tables, ['foreign']);
}

export async function listObjects(client: MySqlClient): Promise<DbObjects> {
  const dbs = await client.rows<{ name: string }>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME');
  const tables = await client.rows<{ db: string; name: string }>(
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME",
  );
  return {
    databases: dbs
      .filter((d) => !SYSTEM_DATABASES.has(d.name.toLowerCase()))
      .map((d) => ({ name: d.name, tables: tables.filter((t) => t.db === d.name).map((t) => t.name) })),
  };
}
