/**
 * Column renames and drops of one table (the selection's `columns`), applied the same way by the
 * schema copy, the full load, CDC apply and compare of every engine. Pure: names only, no SQL.
 *
 * Lookups go through Object.hasOwn: a column may be called `constructor` or `__proto__`.
 */
import type { ColumnMap, IndexSchema, ObjectTable, TableSchema } from './engine.js';

export type { ColumnMap };

const has = (o: Record<string, string>, k: string) => Object.hasOwn(o, k);

/** A map that changes nothing is no map. */
export function isEmptyMap(map: ColumnMap | undefined): map is undefined {
  return !map || (map.drop.length === 0 && Object.keys(map.rename).length === 0);
}

/** The target name of a source column; undefined when the column is dropped. */
export function targetColumn(map: ColumnMap | undefined, source: string): string | undefined {
  if (!map) return source;
  if (map.drop.includes(source)) return undefined;
  return has(map.rename, source) ? map.rename[source] : source;
}

/** The source column behind a target column name (columns the map does not name keep their name). */
export function sourceColumn(map: ColumnMap | undefined, target: string): string {
  if (!map) return target;
  for (const [s, t] of Object.entries(map.rename)) if (t === target) return s;
  return target;
}

/** Source columns (in their order) as kept on the target: the positions kept and their target names. */
export function projectColumns(map: ColumnMap | undefined, source: string[]): { index: number[]; source: string[]; target: string[] } {
  const out = { index: [] as number[], source: [] as string[], target: [] as string[] };
  source.forEach((c, i) => {
    const t = targetColumn(map, c);
    if (t === undefined) return;
    out.index.push(i);
    out.source.push(c);
    out.target.push(t);
  });
  return out;
}

/** Target names of source columns that must all be kept (keys): throws when one is dropped. */
export function targetKeys(map: ColumnMap | undefined, keys: string[]): string[] {
  return keys.map((k) => {
    const t = targetColumn(map, k);
    if (t === undefined) throw new Error(`The key column ${k} is dropped by the column mapping.`);
    return t;
  });
}

/**
 * The table as the target gets it: dropped columns absent, renamed ones under their target name in
 * the primary key and indexes. An index over a dropped column is left out (listed in `leftOut`).
 * Engine-native details (`native`, index `definition`) are left as read: the engine rewrites them.
 */
export function mapTableSchema(schema: TableSchema, map: ColumnMap | undefined): { schema: TableSchema; leftOut: IndexSchema[] } {
  if (isEmptyMap(map)) return { schema, leftOut: [] };
  const name = (c: string) => (c === '' ? '' : targetColumn(map, c));
  const leftOut = schema.indexes.filter((i) => i.columns.some((c) => name(c) === undefined));
  return {
    schema: {
      ...schema,
      columns: schema.columns.flatMap((c) => {
        const t = targetColumn(map, c.name);
        return t === undefined ? [] : [{ ...c, name: t }];
      }),
      primaryKey: schema.primaryKey.map((c) => name(c)!),
      indexes: schema.indexes.filter((i) => !leftOut.includes(i)).map((i) => ({ ...i, columns: i.columns.map((c) => name(c)!) })),
    },
    leftOut,
  };
}

/**
 * Problems of the map against the source table's real columns: names it gives that the table does
 * not have, and dropped primary-key columns. Empty when the map fits.
 */
export function columnMapProblems(map: ColumnMap | undefined, schema: Pick<TableSchema, 'columns' | 'primaryKey'>): string[] {
  if (!map) return [];
  const names = new Set(schema.columns.map((c) => c.name));
  const out: string[] = [];
  for (const c of [...Object.keys(map.rename), ...map.drop]) if (!names.has(c)) out.push(`column ${c} does not exist on the source table`);
  for (const c of map.drop) if (schema.primaryKey.includes(c)) out.push(`column ${c} is part of the primary key and cannot be dropped`);
  const targets = schema.columns.map((c) => targetColumn(map, c.name)).filter((t): t is string => t !== undefined);
  const dup = targets.find((t, i) => targets.indexOf(t) !== i);
  if (dup !== undefined) out.push(`two columns would be called ${dup} on the target`);
  return out;
}

const BARE = /^[a-z_][a-z0-9_$]*$/;

/**
 * Rename the column references of a catalog-printed expression or definition (pg_get_expr,
 * pg_get_constraintdef, pg_get_indexdef): identifiers as quote_ident prints them (bare lower case,
 * or double-quoted) that are renamed source columns. Not column references, so left alone:
 * string literals, upper-case keywords, names followed by `(` (functions, the referenced table),
 * qualified names and casts (after `.` or `::`), the access method after USING and the collation
 * after COLLATE. Renamed ones are written with `quote`. `dropped`: the dropped columns the text refers to.
 */
export function renameColumnRefs(quote: (name: string) => string, text: string, map: ColumnMap | undefined): { text: string; dropped: string[] } {
  if (isEmptyMap(map)) return { text, dropped: [] };
  let out = '';
  const dropped: string[] = [];
  let prev = '';
  for (let i = 0; i < text.length; ) {
    const ch = text[i]!;
    if (ch === "'" || ((ch === 'E' || ch === 'e') && text[i + 1] === "'" && !/[\w$]/.test(text[i - 1] ?? ''))) {
      const escapes = ch !== "'";
      let j = text.indexOf("'", i) + 1;
      while (j < text.length) {
        if (escapes && text[j] === '\\') j += 2;
        else if (text[j] === "'" && text[j + 1] === "'") j += 2;
        else if (text[j] === "'") break;
        else j++;
      }
      out += text.slice(i, j + 1);
      i = j + 1;
      prev = "'";
      continue;
    }
    let name: string | undefined;
    let end = i;
    if (ch === '"') {
      let j = i + 1;
      name = '';
      while (j < text.length) {
        if (text[j] === '"' && text[j + 1] === '"') {
          name += '"';
          j += 2;
        } else if (text[j] === '"') break;
        else name += text[j++];
      }
      end = j + 1;
    } else if (/[A-Za-z_]/.test(ch) && !/[\w$]/.test(text[i - 1] ?? '')) {
      const m = /^[A-Za-z_][\w$]*/.exec(text.slice(i))!;
      end = i + m[0].length;
      if (BARE.test(m[0])) name = m[0];
      else {
        out += m[0];
        i = end;
        prev = m[0].toUpperCase();
        continue;
      }
    }
    if (name === undefined) {
      out += ch;
      i++;
      if (ch.trim()) prev = ch === ':' && text[i - 2] === ':' ? '::' : ch;
      continue;
    }
    const raw = text.slice(i, end);
    const next = /^\s*(.)/.exec(text.slice(end))?.[1];
    const skip = next === '(' || next === '.' || prev === '.' || prev === '::' || prev === 'USING' || prev === 'COLLATE';
    if (skip) out += raw;
    else {
      const t = targetColumn(map, name);
      if (t === undefined) dropped.push(name);
      out += t === undefined || t === name ? raw : quote(t);
    }
    i = end;
    prev = 'ident';
  }
  return { text: out, dropped };
}

/** How PostgreSQL's quote_ident prints a name (keywords aside): bare when simple lower case, else double-quoted. */
const quoteIdentLike = (name: string) => (BARE.test(name) ? name : '"' + name.replace(/"/g, '""') + '"');

/**
 * A source table as the compare expects it on the target: the same mapping as mapTableSchema, over
 * catalog descriptions. Index entries are column names (MySQL), or as PostgreSQL prints them
 * (quote_ident form, or an expression): those are mapped token by token. An index over a dropped
 * column is left out, as the schema copy leaves it out.
 */
export function mapObjectTable(table: ObjectTable, map: ColumnMap | undefined): ObjectTable {
  if (isEmptyMap(map)) return table;
  const pg = table.ref.schema !== undefined;
  const entry = (c: string): string | undefined => {
    if (c === '') return c;
    if (!pg) return targetColumn(map, c);
    const r = renameColumnRefs(quoteIdentLike, c, map);
    return r.dropped.length ? undefined : r.text;
  };
  const indexes = table.indexes.flatMap((i) => {
    const columns = i.columns.map(entry);
    return columns.every((c) => c !== undefined) ? [{ ...i, columns: columns as string[] }] : [];
  });
  return {
    ...table,
    columns: table.columns.flatMap((c) => {
      const t = targetColumn(map, c.name);
      return t === undefined ? [] : [{ ...c, name: t }];
    }),
    primaryKey: table.primaryKey.map((c) => entry(c) ?? c),
    indexes,
  };
}
