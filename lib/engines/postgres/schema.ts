/**
 * PostgreSQL schema: read tables from the catalog and rebuild them on the target under their
 * mapped names, the way pg_dump would: column types from format_type, defaults and generated
 * expressions from pg_get_expr, identity columns with their sequence options, serial sequences
 * recreated (owned by the column, value carried over), enum types created in the target schema,
 * constraints from pg_get_constraintdef, indexes from pg_get_indexdef with the table rewritten.
 *
 * Order: schema (and database) → enum types → serial sequences → CREATE TABLE with columns,
 * primary key, unique and check constraints → unique indexes → sequence ownership and values,
 * comments, replica identity. With `deferSecondaryIndexes` the other indexes and the foreign keys
 * wait for createSecondaryIndexes (and with `deferPrimaryKey` the primary key too: a bulk load into
 * a heap and one sorted build cost about a third less than maintaining the key row by row);
 * foreign keys always come after every table exists, and one
 * whose referenced table is neither migrated nor already on the target is skipped (and logged;
 * precheck reports it as hasForeignKeyOnUnselectedTable).
 *
 * Column renames and drops (SchemaApply.columns) are applied to the catalog facts first: columns,
 * keys, constraints, index definitions and generated expressions name the target columns; a
 * constraint or index over a dropped column is left out (logged).
 *
 * Names derived from the table (`t_pkey`, `t_id_seq`, `t_a_idx`) follow a renamed table, so a
 * copy next to its source does not collide. Idempotent: an existing target table with the same
 * columns and primary key is kept and only missing indexes and constraints are added; a
 * different one is an error.
 */
import type pg from 'pg';
import { logger } from '../../logger.js';
import { isEmptyMap, renameColumnRefs, targetColumn } from '../column-map.js';
import type { DbObjects, IndexSchema, SchemaApply, TableRef, TableSchema } from '../engine.js';
import { FatalEngineError } from '../engine.js';
import { lit, qid, qtable, schemaOf, type PgClient } from './connection.js';

export const SYSTEM_SCHEMA = /^(pg_catalog|information_schema|pg_toast|pg_temp_\d+|pg_toast_temp_\d+)$/;

interface NativeColumn {
  name: string;
  /** format_type output (search_path = pg_catalog, so user types are schema-qualified). */
  type: string;
  notNull: boolean;
  default?: string;
  identity?: 'a' | 'd';
  generated?: string;
  collate?: string;
  comment?: string;
  /** Set when the type (or the array element type) is a user enum: [schema, name, isArray]. */
  enumType?: [string, string, boolean];
  /** Type category: 'builtin', 'enum', or the pg_type.typtype of another user type (d domain, c composite, r range, b base from an extension). */
  typeKind: string;
  typeName: string;
}
interface NativeSequence {
  column: string;
  kind: 'serial' | 'identity';
  schema: string;
  name: string;
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  lastValue: string | null;
}
interface NativeConstraint {
  name: string;
  type: 'p' | 'u' | 'c' | 'f' | 'x';
  def: string;
  columns: string[];
  /** FOREIGN KEY: the referenced table [schema, table] and how pg_get_constraintdef printed it. */
  ref?: [string, string];
  refText?: string;
}
interface NativeIndex {
  name: string;
  unique: boolean;
  constraint: boolean;
  def: string;
  /** The part after `ON <table> `: `USING btree (a, b) WHERE ...`. */
  using: string;
}
interface NativeEnum {
  schema: string;
  name: string;
  labels: string[];
}
export interface PgNative {
  persistence: 'p' | 'u' | 't';
  replicaIdentity: 'd' | 'n' | 'f' | 'i';
  comment?: string;
  columns: NativeColumn[];
  sequences: NativeSequence[];
  constraints: NativeConstraint[];
  indexes: NativeIndex[];
  enums: NativeEnum[];
  [k: string]: unknown;
}

const json = <T>(s: string | null): T => (s === null ? (null as T) : (JSON.parse(s) as T));

/** What PostgreSQL's quote_ident prints: bare when lower-case simple, quoted otherwise (keywords aside). */
function quoteIdentLike(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : qid(name);
}
const qualifiedLike = (schema: string, name: string) => `${quoteIdentLike(schema)}.${quoteIdentLike(name)}`;

/** Group tables by database (each database is its own connection pool). */
function byDb<T extends { db: string }>(items: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    if (!m.has(i.db)) m.set(i.db, []);
    m.get(i.db)!.push(i);
  }
  return m;
}

export async function readSchema(client: PgClient, tables: TableRef[]): Promise<TableSchema[]> {
  const found = new Map<TableRef, TableSchema>();
  for (const [db, refs] of byDb(tables)) {
    for (const s of await readDbSchema(client, db, refs)) {
      const ref = refs.find((r) => schemaOf(r) === s.ref.schema && r.table === s.ref.table)!;
      found.set(ref, s);
    }
  }
  return tables.map((t) => {
    const s = found.get(t);
    if (!s) throw new FatalEngineError(`Table ${t.db}.${schemaOf(t)}.${t.table} does not exist, or the user cannot see it.`);
    return s;
  });
}

async function readDbSchema(client: PgClient, db: string, refs: TableRef[]): Promise<TableSchema[]> {
  const [encoding] = await client.rows<{ encoding: string; collate: string }>(
    db,
    'SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate FROM pg_database WHERE datname = current_database()',
  );
  const tables = await client.rows<{ oid: string; schema: string; name: string; kind: string; persistence: string; replident: string; est: string; bytes: string; comment: string | null }>(
    db,
    `SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind, c.relpersistence AS persistence, c.relreplident AS replident,
            GREATEST(c.reltuples, 0)::int8::text AS est, pg_table_size(c.oid)::text AS bytes, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [refs.map(schemaOf), refs.map((r) => r.table)],
  );
  for (const t of tables) {
    if (t.kind === 'p') throw new FatalEngineError(`${db}.${t.schema}.${t.name} is a partitioned table; migrate its partitions as tables instead.`);
    if (t.kind !== 'r') throw new FatalEngineError(`${db}.${t.schema}.${t.name} is not a table (relkind ${t.kind}); only tables can be migrated.`);
  }
  if (tables.length === 0) return [];
  const oids = tables.map((t) => t.oid);
  const cols = await client.rows<{
    rel: string; name: string; type: string; notnull: string; def: string | null; identity: string; generated: string; collate: string | null;
    collation: string | null; comment: string | null; typtype: string; typschema: string; typname: string; etyptype: string | null; etypschema: string | null; etypname: string | null;
  }>(
    db,
    `SELECT a.attrelid::int8::text AS rel, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull::text AS notnull,
            pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity AS identity, a.attgenerated AS generated,
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                 THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS collate,
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN (SELECT co.collname FROM pg_collation co WHERE co.oid = a.attcollation) END AS collation,
            col_description(a.attrelid, a.attnum) AS comment,
            t.typtype AS typtype, tn.nspname AS typschema, t.typname AS typname, et.typtype AS etyptype, etn.nspname AS etypschema, et.typname AS etypname
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
       LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A' LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  const enumRows = await client.rows<{ schema: string; name: string; labels: string }>(
    db,
    `SELECT n.nspname AS schema, t.typname AS name, json_agg(e.enumlabel ORDER BY e.enumsortorder)::text AS labels
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE t.oid IN (SELECT CASE WHEN ty.typcategory = 'A' THEN ty.typelem ELSE ty.oid END FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
                       WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped)
      GROUP BY n.nspname, t.typname`,
    [oids],
  );
  const seqs = await client.rows<{
    rel: string; column: string; deptype: string; schema: string; name: string; type: string; start: string; increment: string; min: string; max: string; cache: string; cycle: string; last: string | null;
  }>(
    db,
    `SELECT d.refobjid::int8::text AS rel, a.attname AS column, d.deptype AS deptype, sn.nspname AS schema, sc.relname AS name, format_type(s.seqtypid, NULL) AS type,
            s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle::text AS cycle,
            ps.last_value::text AS last
       FROM pg_depend d
       JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S' JOIN pg_namespace sn ON sn.oid = sc.relnamespace
       JOIN pg_sequence s ON s.seqrelid = sc.oid
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
       LEFT JOIN pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = sc.relname
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY($1::oid[]) AND d.deptype IN ('a', 'i')`,
    [oids],
  );
  const cons = await client.rows<{ rel: string; name: string; type: string; def: string; columns: string | null; ref: string | null; reftext: string | null }>(
    db,
    `SELECT c.conrelid::int8::text AS rel, c.conname AS name, c.contype AS type, pg_get_constraintdef(c.oid) AS def,
            (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)::text AS columns,
            CASE WHEN c.confrelid <> 0 THEN (SELECT json_build_array(rn.nspname, rc.relname) FROM pg_class rc JOIN pg_namespace rn ON rn.oid = rc.relnamespace WHERE rc.oid = c.confrelid)::text END AS ref,
            CASE WHEN c.confrelid <> 0 THEN c.confrelid::regclass::text END AS reftext
       FROM pg_constraint c WHERE c.conrelid = ANY($1::oid[]) AND c.contype IN ('p', 'u', 'c', 'f', 'x')
      ORDER BY c.conrelid, c.contype, c.conname`,
    [oids],
  );
  const idx = await client.rows<{ rel: string; name: string; unique: string; primary: string; def: string; prefix: string; constraint: string; columns: string | null }>(
    db,
    `SELECT i.indrelid::int8::text AS rel, ic.relname AS name, i.indisunique::text AS unique, i.indisprimary::text AS primary, pg_get_indexdef(i.indexrelid) AS def,
            quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) AS prefix,
            EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))::text AS constraint,
            (SELECT json_agg(COALESCE(a.attname, '') ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE k.ord <= i.indnkeyatts)::text AS columns
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
      WHERE i.indrelid = ANY($1::oid[])
      ORDER BY i.indrelid, ic.relname`,
    [oids],
  );

  return tables.map((t): TableSchema => {
    const tcols = cols.filter((c) => c.rel === t.oid);
    const tseqs = seqs.filter((s) => s.rel === t.oid);
    const tcons = cons.filter((c) => c.rel === t.oid);
    const tidx = idx.filter((i) => i.rel === t.oid);
    const pk = tcons.find((c) => c.type === 'p');
    const usedEnums = new Set<string>();
    const native: PgNative = {
      persistence: t.persistence as PgNative['persistence'],
      replicaIdentity: t.replident as PgNative['replicaIdentity'],
      ...(t.comment !== null ? { comment: t.comment } : {}),
      columns: tcols.map((c): NativeColumn => {
        const isArray = c.etyptype !== null;
        const [kind, schema, name] = isArray ? [c.etyptype!, c.etypschema!, c.etypname!] : [c.typtype, c.typschema, c.typname];
        const builtin = schema === 'pg_catalog';
        if (kind === 'e') usedEnums.add(`${schema}\u0000${name}`);
        return {
          name: c.name,
          type: c.type,
          notNull: c.notnull === 'true',
          ...(c.def !== null && c.generated === '' ? { default: c.def } : {}),
          ...(c.identity ? { identity: c.identity as 'a' | 'd' } : {}),
          ...(c.generated ? { generated: c.def ?? '' } : {}),
          ...(c.collate ? { collate: c.collate } : {}),
          ...(c.comment !== null ? { comment: c.comment } : {}),
          ...(kind === 'e' ? { enumType: [schema, name, isArray] as [string, string, boolean] } : {}),
          typeKind: builtin ? 'builtin' : kind === 'e' ? 'enum' : kind,
          typeName: `${schema}.${name}`,
        };
      }),
      sequences: tseqs.map((s) => ({
        column: s.column,
        kind: s.deptype === 'i' ? 'identity' : 'serial',
        schema: s.schema,
        name: s.name,
        type: s.type,
        start: s.start,
        increment: s.increment,
        min: s.min,
        max: s.max,
        cache: s.cache,
        cycle: s.cycle === 'true',
        lastValue: s.last,
      })),
      constraints: tcons.map((c) => ({
        name: c.name,
        type: c.type as NativeConstraint['type'],
        def: c.def,
        columns: json<string[]>(c.columns) ?? [],
        ...(c.ref ? { ref: json<[string, string]>(c.ref), refText: c.reftext! } : {}),
      })),
      indexes: tidx.map((i) => {
        const head = new RegExp(`^CREATE (UNIQUE )?INDEX ${escapeRe(quoteIdentLike(i.name))} ON (ONLY )?${escapeRe(i.prefix)} `);
        const m = head.exec(i.def);
        return { name: i.name, unique: i.unique === 'true', constraint: i.constraint === 'true', def: i.def, using: m ? i.def.slice(m[0].length) : '' };
      }),
      enums: enumRows.filter((e) => usedEnums.has(`${e.schema}\u0000${e.name}`)).map((e) => ({ schema: e.schema, name: e.name, labels: json<string[]>(e.labels) })),
    };
    const indexes: IndexSchema[] = tidx.map((i) => {
      const c = tcons.find((x) => x.name === i.name && (x.type === 'p' || x.type === 'u'));
      return { name: i.name, columns: json<string[]>(i.columns) ?? [], unique: i.unique === 'true', primary: i.primary === 'true', definition: c ? c.def : i.def };
    });
    indexes.sort((a, b) => Number(b.primary) - Number(a.primary) || Number(b.unique) - Number(a.unique) || a.name.localeCompare(b.name));
    return {
      ref: { db, schema: t.schema, table: t.name },
      columns: native.columns.map((c) => ({
        name: c.name,
        type: c.type,
        nullable: !c.notNull,
        ...(c.default !== undefined ? { default: c.default } : {}),
        ...(c.identity || native.sequences.some((s) => s.column === c.name) ? { autoIncrement: true } : {}),
        ...(c.collate ? { collation: tcols.find((x) => x.name === c.name)!.collation! } : {}),
        ...(c.comment !== undefined ? { comment: c.comment } : {}),
      })),
      primaryKey: pk ? json<string[]>(pk.columns) ?? [] : [],
      indexes,
      charset: encoding?.encoding,
      collation: encoding?.collate,
      estimatedRows: Number(t.est),
      estimatedBytes: Number(t.bytes),
      native,
    };
  });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Columns that an upsert cannot update: identity GENERATED ALWAYS (PostgreSQL only lets them be set to DEFAULT). */
export async function alwaysIdentityColumns(client: PgClient, ref: TableRef): Promise<string[]> {
  const rows = await client.rows<{ name: string }>(
    ref.db,
    `SELECT a.attname AS name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = 'a'`,
    [schemaOf(ref), ref.table],
  );
  return rows.map((r) => r.name);
}

/** Columns a copy reads and writes: all but generated ones, in table order. */
export async function copyColumns(client: PgClient, ref: TableRef): Promise<string[]> {
  const rows = await client.rows<{ name: string; generated: string }>(
    ref.db,
    `SELECT a.attname AS name, a.attgenerated AS generated FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [schemaOf(ref), ref.table],
  );
  if (rows.length === 0) throw new FatalEngineError(`Table ${ref.db}.${schemaOf(ref)}.${ref.table} does not exist, or the user cannot see it.`);
  return rows.filter((r) => r.generated === '').map((r) => r.name);
}

// ---------------------------------------------------------------------------------------------
// Applying

type Apply = SchemaApply;

function nativeOf(s: TableSchema): PgNative {
  const n = s.native as PgNative | undefined;
  if (!n || !Array.isArray(n.columns)) throw new FatalEngineError(`The schema of ${s.ref.db}.${s.ref.schema}.${s.ref.table} was not read from PostgreSQL.`);
  return n;
}

/**
 * The table's catalog facts as the target gets them (Apply.columns): dropped columns gone (with
 * their sequences and enum types), renamed ones under their target names in columns, generated
 * expressions, constraints and indexes; a constraint or index over a dropped column is left out
 * (`leftOut`); a generated column computed from one is an error.
 */
function mappedNative(item: Apply, all: Apply[]): { n: PgNative; leftOut: string[] } {
  const n = nativeOf(item.schema);
  const map = item.columns;
  const referencedMap = (c: NativeConstraint) => all.find((a) => a.schema.ref.db === item.schema.ref.db && a.schema.ref.schema === c.ref?.[0] && a.schema.ref.table === c.ref?.[1])?.columns;
  // A foreign key follows the renames of the table it references too.
  if (isEmptyMap(map) && n.constraints.every((c) => c.type !== 'f' || isEmptyMap(referencedMap(c)))) return { n, leftOut: [] };
  const where = `${item.schema.ref.db}.${item.schema.ref.schema}.${item.schema.ref.table}`;
  const leftOut: string[] = [];
  const columns = n.columns.flatMap((c): NativeColumn[] => {
    const name = targetColumn(map, c.name);
    if (name === undefined) return [];
    if (c.generated === undefined) return [{ ...c, name }];
    const g = renameColumnRefs(qid, c.generated, map);
    if (g.dropped.length) throw new FatalEngineError(`Column ${c.name} of ${where} is computed from the dropped column ${g.dropped[0]}; keep that column or drop this one too.`);
    return [{ ...c, name, generated: g.text }];
  });
  const constraints = n.constraints.flatMap((c): NativeConstraint[] => {
    let def: string;
    let dropped: string[];
    const at = c.def.indexOf(' REFERENCES ');
    if (c.type === 'f' && at >= 0) {
      const local = renameColumnRefs(qid, c.def.slice(0, at), map);
      const remote = renameColumnRefs(qid, c.def.slice(at), referencedMap(c));
      def = local.text + remote.text;
      dropped = [...local.dropped, ...remote.dropped];
    } else ({ text: def, dropped } = renameColumnRefs(qid, c.def, map));
    if (dropped.length || c.columns.some((x) => targetColumn(map, x) === undefined)) {
      leftOut.push(`constraint ${c.name}`);
      return [];
    }
    return [{ ...c, def, columns: c.columns.map((x) => targetColumn(map, x)!) }];
  });
  const indexes = n.indexes.flatMap((i): NativeIndex[] => {
    const u = renameColumnRefs(qid, i.using, map);
    if (u.dropped.length) {
      if (!i.constraint) leftOut.push(`index ${i.name}`);
      return [];
    }
    return [{ ...i, using: u.text }];
  });
  const sequences = n.sequences.flatMap((q) => {
    const column = targetColumn(map, q.column);
    return column === undefined ? [] : [{ ...q, column }];
  });
  const used = new Set(columns.flatMap((c) => (c.enumType ? [`${c.enumType[0]}\u0000${c.enumType[1]}`] : [])));
  const enums = n.enums.filter((e) => used.has(`${e.schema}\u0000${e.name}`));
  return { n: { ...n, columns, constraints, indexes, sequences, enums }, leftOut };
}

/** `t_pkey` → `copy_pkey` when the table is renamed and the name starts with the table name. */
function follow(name: string, from: string, to: string): string {
  if (from === to || !name.startsWith(from)) return name;
  return (to + name.slice(from.length)).slice(0, 63);
}

/** Where an enum of the source goes: the table's target schema when it lived in the table's schema, else a schema of the same name. */
function enumTarget(e: { schema: string }, item: Apply): string {
  return e.schema === item.schema.ref.schema ? schemaOf(item.target) : e.schema;
}

/** Rewrites of source names inside expressions (enum casts, serial sequences). */
function expressionRewrites(item: Apply): [string, string][] {
  const n = nativeOf(item.schema);
  const out: [string, string][] = [];
  for (const e of n.enums) out.push([`::${qualifiedLike(e.schema, e.name)}`, `::${qid(enumTarget(e, item))}.${qid(e.name)}`]);
  for (const s of n.sequences.filter((x) => x.kind === 'serial')) {
    out.push([`${lit(qualifiedLike(s.schema, s.name))}::regclass`, `${lit(`${qid(schemaOf(item.target))}.${qid(follow(s.name, item.schema.ref.table, item.target.table))}`)}::regclass`]);
  }
  return out;
}

function rewrite(expr: string, rewrites: [string, string][]): string {
  let out = expr;
  for (const [a, b] of rewrites) out = out.split(a).join(b);
  return out;
}

function columnType(c: NativeColumn, item: Apply): string {
  if (!c.enumType) return c.type;
  const [schema, name, isArray] = c.enumType;
  return `${qid(enumTarget({ schema }, item))}.${qid(name)}${isArray ? '[]' : ''}`;
}

function sequenceOptions(s: NativeSequence): string {
  return `START WITH ${s.start} INCREMENT BY ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max} CACHE ${s.cache}${s.cycle ? ' CYCLE' : ' NO CYCLE'}`;
}

function columnDdl(c: NativeColumn, n: PgNative, item: Apply, rewrites: [string, string][]): string {
  let sql = `${qid(c.name)} ${columnType(c, item)}`;
  if (c.collate) sql += ` COLLATE ${c.collate}`;
  if (c.generated !== undefined) sql += ` GENERATED ALWAYS AS (${rewrite(c.generated, rewrites)}) STORED`;
  if (c.identity) {
    const seq = n.sequences.find((s) => s.kind === 'identity' && s.column === c.name);
    sql += ` GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY${seq ? ` (${sequenceOptions(seq)})` : ''}`;
  }
  if (c.default !== undefined) sql += ` DEFAULT ${rewrite(c.default, rewrites)}`;
  if (c.notNull) sql += ' NOT NULL';
  return sql;
}

function constraintDdl(c: NativeConstraint, item: Apply, all: Apply[], rewrites: [string, string][]): string {
  let def = rewrite(c.def, rewrites);
  if (c.type === 'f' && c.ref && c.refText) {
    const mapped = all.find((a) => a.schema.ref.db === item.schema.ref.db && a.schema.ref.schema === c.ref![0] && a.schema.ref.table === c.ref![1]);
    if (mapped) def = def.replace(` REFERENCES ${c.refText}(`, ` REFERENCES ${qtable(mapped.target)}(`);
  }
  return `CONSTRAINT ${qid(follow(c.name, item.schema.ref.table, item.target.table))} ${def}`;
}

function indexDdl(i: NativeIndex, item: Apply, rewrites: [string, string][]): string {
  if (!i.using) throw new FatalEngineError(`Cannot rewrite index ${i.name} of ${item.schema.ref.table}: ${i.def}`);
  return `CREATE ${i.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${qid(follow(i.name, item.schema.ref.table, item.target.table))} ON ${qtable(item.target)} ${rewrite(i.using, rewrites)}`;
}

async function ensureDatabase(client: PgClient, db: string): Promise<void> {
  const [exists] = await client.rows(client.defaultDb, 'SELECT 1 AS x FROM pg_database WHERE datname = $1', [db]);
  if (!exists) {
    try {
      await client.exec(client.defaultDb, `CREATE DATABASE ${qid(db)}`);
    } catch (e) {
      if ((e as { cause?: { code?: string } }).cause?.code !== '42P04') throw e;
    }
  }
}

async function ensureEnum(c: pg.PoolClient, schema: string, e: NativeEnum): Promise<void> {
  const r = await c.query({ text: `SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)::text AS labels FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_enum e ON e.enumtypid = t.oid WHERE n.nspname = $1 AND t.typname = $2 GROUP BY t.oid`, values: [schema, e.name] });
  if (r.rows.length === 0) {
    await c.query(`CREATE TYPE ${qid(schema)}.${qid(e.name)} AS ENUM (${e.labels.map(lit).join(', ')})`);
    return;
  }
  const labels = json<string[] | null>(r.rows[0].labels) ?? [];
  if (JSON.stringify(labels) !== JSON.stringify(e.labels)) {
    throw new FatalEngineError(`Type ${schema}.${e.name} already exists on the target with different values (${labels.join(', ')}); expected ${e.labels.join(', ')}.`);
  }
}

async function targetColumns(c: pg.PoolClient, ref: TableRef): Promise<{ columns: { name: string; type: string; notNull: boolean }[]; pk: string[] } | undefined> {
  const r = await c.query({
    text: `SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull) ORDER BY a.attnum)::text AS cols,
                  (SELECT json_agg(pa.attname ORDER BY k.ord) FROM pg_constraint pc, unnest(pc.conkey) WITH ORDINALITY k(attnum, ord), pg_attribute pa
                    WHERE pc.conrelid = cl.oid AND pc.contype = 'p' AND pa.attrelid = cl.oid AND pa.attnum = k.attnum)::text AS pk
             FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = $1 AND cl.relname = $2 AND cl.relkind IN ('r', 'p') GROUP BY cl.oid`,
    values: [schemaOf(ref), ref.table],
  });
  if (r.rows.length === 0) return undefined;
  const cols = json<[string, string, boolean][]>(r.rows[0].cols);
  return { columns: cols.map(([name, type, notNull]) => ({ name, type, notNull })), pk: json<string[] | null>(r.rows[0].pk) ?? [] };
}

function assertSame(item: Apply, n: PgNative, existing: { columns: { name: string; type: string; notNull: boolean }[]; pk: string[] }, deferPrimaryKey: boolean): void {
  const norm = (t: string) => t.replace(/"/g, '');
  const want = n.columns.map((c) => `${c.name}:${norm(columnType(c, item))}:${c.notNull}`).join('|');
  const have = existing.columns.map((c) => `${c.name}:${norm(c.type)}:${c.notNull}`).join('|');
  // A table created earlier with its primary key deferred has none yet.
  const pkDeferred = deferPrimaryKey && existing.pk.length === 0;
  const pk = item.schema.primaryKey.map((c) => targetColumn(item.columns, c) ?? c);
  if (want !== have || (pk.join('|') !== existing.pk.join('|') && !pkDeferred)) {
    throw new FatalEngineError(
      `Target table ${item.target.db}.${schemaOf(item.target)}.${item.target.table} already exists with a different structure (columns or primary key differ from the source). Drop or rename it, or map the table to another name.`,
    );
  }
}

async function existingConstraints(c: pg.PoolClient, ref: TableRef): Promise<Set<string>> {
  const r = await c.query({
    text: `SELECT con.conname AS name FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = $1 AND cl.relname = $2`,
    values: [schemaOf(ref), ref.table],
  });
  return new Set(r.rows.map((x: { name: string }) => x.name));
}

async function applyOne(c: pg.PoolClient, item: Apply, all: Apply[], defer: boolean, deferPrimaryKey: boolean): Promise<void> {
  const { n, leftOut } = mappedNative(item, all);
  if (leftOut.length) logger.warn('left out of the target table: they use a dropped column', { table: qtable(item.target), objects: leftOut });
  const target = item.target;
  const schema = schemaOf(target);
  const rewrites = expressionRewrites(item);
  await c.query(`CREATE SCHEMA IF NOT EXISTS ${qid(schema)}`);
  for (const e of n.enums) {
    const s = enumTarget(e, item);
    if (s !== schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${qid(s)}`);
    await ensureEnum(c, s, e);
  }
  const existing = await targetColumns(c, target);
  if (existing) {
    assertSame(item, n, existing, deferPrimaryKey);
  } else {
    const serials = n.sequences.filter((s) => s.kind === 'serial');
    for (const s of serials) {
      await c.query(`CREATE SEQUENCE IF NOT EXISTS ${qid(schema)}.${qid(follow(s.name, item.schema.ref.table, target.table))} AS ${s.type} ${sequenceOptions(s)}`);
    }
    const inline = n.constraints.filter((x) => (x.type === 'p' && !deferPrimaryKey) || x.type === 'u' || x.type === 'x' || (x.type === 'c' && !/ NOT VALID$/.test(x.def)));
    const body = [...n.columns.map((col) => columnDdl(col, n, item, rewrites)), ...inline.map((x) => constraintDdl(x, item, all, rewrites))];
    await c.query(`CREATE ${n.persistence === 'u' ? 'UNLOGGED ' : ''}TABLE ${qtable(target)} (\n  ${body.join(',\n  ')}\n)`);
    for (const s of serials) {
      const seq = `${qid(schema)}.${qid(follow(s.name, item.schema.ref.table, target.table))}`;
      await c.query(`ALTER SEQUENCE ${seq} OWNED BY ${qtable(target)}.${qid(s.column)}`);
      if (s.lastValue !== null) await c.query({ text: 'SELECT setval($1::text::regclass, $2::int8, true)', values: [seq, s.lastValue] });
    }
    for (const s of n.sequences.filter((x) => x.kind === 'identity' && x.lastValue !== null)) {
      await c.query({ text: 'SELECT setval(pg_get_serial_sequence($1, $2), $3::int8, true)', values: [qtable(target), s.column, s.lastValue] });
    }
    if (n.comment !== undefined) await c.query(`COMMENT ON TABLE ${qtable(target)} IS ${lit(n.comment)}`);
    for (const col of n.columns.filter((x) => x.comment !== undefined)) await c.query(`COMMENT ON COLUMN ${qtable(target)}.${qid(col.name)} IS ${lit(col.comment!)}`);
    if (n.replicaIdentity === 'f' || n.replicaIdentity === 'n') await c.query(`ALTER TABLE ${qtable(target)} REPLICA IDENTITY ${n.replicaIdentity === 'f' ? 'FULL' : 'NOTHING'}`);
  }
  const have = await existingConstraints(c, target);
  for (const x of n.constraints.filter((k) => k.type !== 'f' && !(k.type === 'p' && deferPrimaryKey) && !have.has(follow(k.name, item.schema.ref.table, target.table)))) {
    await c.query(`ALTER TABLE ${qtable(target)} ADD ${constraintDdl(x, item, all, rewrites)}`);
  }
  for (const i of n.indexes.filter((x) => !x.constraint && (x.unique || !defer))) await c.query(indexDdl(i, item, rewrites));
}

async function addForeignKeys(client: PgClient, tables: Apply[]): Promise<void> {
  for (const item of tables) {
    const { n } = mappedNative(item, tables);
    const fks = n.constraints.filter((x) => x.type === 'f');
    if (fks.length === 0) continue;
    await client.transaction(item.target.db, async (c) => {
      const have = await existingConstraints(c, item.target);
      const rewrites = expressionRewrites(item);
      for (const fk of fks.filter((x) => !have.has(follow(x.name, item.schema.ref.table, item.target.table)))) {
        const mapped = tables.some((a) => a.schema.ref.db === item.schema.ref.db && a.schema.ref.schema === fk.ref?.[0] && a.schema.ref.table === fk.ref?.[1]);
        if (!mapped && fk.ref) {
          const r = await c.query({ text: 'SELECT (to_regclass($1) IS NOT NULL)::text AS ok', values: [`${qid(fk.ref[0])}.${qid(fk.ref[1])}`] });
          if (r.rows[0].ok !== 'true') {
            // Reported by precheck (hasForeignKeyOnUnselectedTable); the referenced table is not migrated and not on the target.
            logger.warn('foreign key skipped: referenced table is not on the target', { table: item.target, constraint: fk.name, references: fk.ref });
            continue;
          }
        }
        await c.query(`ALTER TABLE ${qtable(item.target)} ADD ${constraintDdl(fk, item, tables, rewrites)}`);
      }
    });
  }
}

export async function applySchema(client: PgClient, tables: Apply[], opts: { deferSecondaryIndexes: boolean; deferPrimaryKey?: boolean }): Promise<void> {
  // The primary key waits only along with the rest (foreign keys need the keys they reference).
  const deferPrimaryKey = opts.deferSecondaryIndexes && opts.deferPrimaryKey === true;
  for (const db of new Set(tables.map((t) => t.target.db))) await ensureDatabase(client, db);
  for (const item of tables) {
    await client.transaction(item.target.db, (c) => applyOne(c, item, tables, opts.deferSecondaryIndexes, deferPrimaryKey));
  }
  if (!opts.deferSecondaryIndexes) await addForeignKeys(client, tables);
}

/** Add the primary keys applySchema deferred (a table that has one already is left alone). */
async function addPrimaryKeys(client: PgClient, tables: Apply[]): Promise<void> {
  for (const item of tables) {
    const pk = mappedNative(item, tables).n.constraints.find((x) => x.type === 'p');
    if (!pk) continue;
    await client.transaction(item.target.db, async (c) => {
      const r = await c.query({ text: "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $1::text::regclass AND contype = 'p')::text AS has", values: [qtable(item.target)] });
      if (r.rows[0].has !== 'true') await c.query(`ALTER TABLE ${qtable(item.target)} ADD ${constraintDdl(pk, item, tables, expressionRewrites(item))}`);
    });
  }
}

export async function createSecondaryIndexes(client: PgClient, tables: Apply[]): Promise<void> {
  await addPrimaryKeys(client, tables);
  for (const item of tables) {
    const { n } = mappedNative(item, tables);
    const rewrites = expressionRewrites(item);
    for (const i of n.indexes.filter((x) => !x.constraint && !x.unique)) await client.exec(item.target.db, indexDdl(i, item, rewrites));
  }
  await addForeignKeys(client, tables);
}

export async function listObjects(client: PgClient): Promise<DbObjects> {
  const dbs = await client.rows<{ name: string }>(client.defaultDb, 'SELECT datname AS name FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname');
  const out: DbObjects = { databases: [] };
  for (const { name } of dbs) {
    let rows: { schema: string; tables: string | null }[];
    try {
      rows = await client.rows(
        name,
        `SELECT n.nspname AS schema, (SELECT json_agg(c.relname ORDER BY c.relname) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p'))::text AS tables
           FROM pg_namespace n WHERE n.nspname !~ '^(pg_catalog|information_schema|pg_toast|pg_temp_[0-9]+|pg_toast_temp_[0-9]+)$' ORDER BY n.nspname`,
      );
    } catch {
      continue; // no CONNECT privilege on that database: not selectable
    }
    out.databases.push({ name, schemas: rows.filter((r) => !SYSTEM_SCHEMA.test(r.schema)).map((r) => ({ name: r.schema, tables: json<string[] | null>(r.tables) ?? [] })) });
  }
  return out;
}
