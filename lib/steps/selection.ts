/**
 * Object selection: the job's db_object tree (v5 DatabaseObject model) resolved against what the
 * source really holds, into table mappings (source → target names, row filter). Pure.
 *
 * object_scope `all`: every user database/schema and table. `database`: the listed databases,
 * all their tables unless tables are listed. `table`: only the listed tables. `name` on a
 * database, schema or table is its target name (rename); a table's `filtered` +
 * `filter_conditions[0]` is its row filter (over the source's column names); a table's `columns`
 * rename (`name`) and drop (`filtered: false`) columns, carried as TableMapping.columns.
 */
import { columnMapProblems } from '../engines/column-map.js';
import type { ColumnMap, DbObjects, EngineKind, TableMapping, TableRef, TableSchema } from '../engines/engine.js';
import { validateRowFilter } from '../engines/sql-filter.js';
import { InvalidParameterError } from '../errors.js';
import type { DbObjectSelection, TableSelection } from '../job/job.js';

/** Longest column name on either engine (MySQL 64, PostgreSQL 63 bytes: the target refuses what it cannot hold). */
const MAX_COLUMN_NAME = 64;

/**
 * The table's `columns` entries: renames (`name`) and drops (`filtered: false`). Refused: additional
 * columns, dropping a column the request marks as primary key (`primary_key_for_column_filtering`
 * "PRI"; the source's real key is checked again when the selection is resolved), a target name
 * that is empty or too long, two columns with one target name.
 */
function validateColumns(ts: TableSelection, path: string): void {
  const targets = new Map<string, string>();
  for (const [col, c] of Object.entries(ts.columns ?? {})) {
    const at = `${path}.${col}`;
    if (c.additional) throw new InvalidParameterError(`${at}.additional`, 'additional columns are not supported by this deployment; only renaming (name) and dropping (filtered: false) columns are');
    const drop = c.filtered === false;
    if (drop && (c.primary_key_for_column_filtering ?? '').toUpperCase() === 'PRI') throw new InvalidParameterError(`${at}.filtered`, `column ${col} is part of the primary key and cannot be dropped`);
    if (c.name !== undefined && !drop) {
      if (c.name.trim() === '') throw new InvalidParameterError(`${at}.name`, 'the target column name is empty');
      if ([...c.name].length > MAX_COLUMN_NAME) throw new InvalidParameterError(`${at}.name`, `the target column name is longer than ${MAX_COLUMN_NAME} characters`);
    }
    if (drop) continue;
    const target = c.name ?? col;
    const other = targets.get(target);
    if (other !== undefined) throw new InvalidParameterError(`${at}.name`, `columns ${other} and ${col} are both mapped to ${target}`);
    targets.set(target, col);
  }
}

/** The table's column renames and drops as a ColumnMap; undefined when it changes nothing. */
export function columnMap(ts: TableSelection | undefined): ColumnMap | undefined {
  const rename: [string, string][] = [];
  const drop: string[] = [];
  for (const [col, c] of Object.entries(ts?.columns ?? {})) {
    if (c.filtered === false) drop.push(col);
    else if (c.name !== undefined && c.name !== col) rename.push([col, c.name]);
  }
  // Object.fromEntries defines own properties: a column called __proto__ stays a plain key.
  return rename.length || drop.length ? { rename: Object.fromEntries(rename), drop } : undefined;
}

/**
 * Check the mappings' column renames and drops against the source tables as read (`schemas` in
 * the order of `mappings`): a column the map names must exist, and no primary-key column may be
 * dropped. Throws InvalidParameterError naming the column.
 */
export function checkColumnMaps(mappings: TableMapping[], schemas: TableSchema[]): void {
  mappings.forEach((m, i) => {
    const problems = columnMapProblems(m.columns, schemas[i]!);
    const at = m.source.schema !== undefined ? `${m.source.db}.schemas.${m.source.schema}.tables.${m.source.table}` : `${m.source.db}.tables.${m.source.table}`;
    if (problems.length) throw new InvalidParameterError(`db_object.object_info.${at}.columns`, `table ${refName(m.source)}: ${problems.join('; ')}`);
  });
}

export function validateSelection(sel: DbObjectSelection, kind: EngineKind): void {
  for (const [db, d] of Object.entries(sel.object_info ?? {})) {
    const tables: [string, TableSelection][] = [
      ...Object.entries(d.tables ?? {}),
      ...Object.values(d.schemas ?? {}).flatMap((s) => Object.entries(s.tables ?? {})),
    ];
    if (kind === 'mysql' && d.schemas && Object.keys(d.schemas).length) throw new InvalidParameterError(`db_object.object_info.${db}.schemas`, 'MySQL databases have no schemas; list tables under the database');
    for (const [t, ts] of tables) {
      const path = `db_object.object_info.${db}.tables.${t}`;
      validateColumns(ts, `${path}.columns`);
      if (ts.filtered && ts.filter_conditions?.length) {
        if (ts.filter_conditions.length > 1) throw new InvalidParameterError(`${path}.filter_conditions`, 'one row filter per table');
        try {
          validateRowFilter(ts.filter_conditions[0]);
        } catch (e) {
          throw new InvalidParameterError(`${path}.filter_conditions`, (e as Error).message);
        }
      }
    }
  }
}

/**
 * What a job can select from: a PostgreSQL endpoint is one database (a logical replication slot
 * belongs to one database), so only the endpoint's `db_name` counts; a MySQL server's databases
 * all count.
 */
export function jobObjects(source: { dbType: string; dbName?: string }, objects: DbObjects): DbObjects {
  if (source.dbType !== 'postgresql') return objects;
  const db = source.dbName ?? 'postgres';
  return { databases: objects.databases.filter((d) => d.name === db) };
}

const targetName = (given: string | undefined, source: string) => (given && given.trim() ? given : source);

/**
 * The row filter is kept as canonical SQL of the source's dialect (PostgreSQL databases are the
 * ones with schemas): the engine parses it again with its own dialect before use, and MySQL's
 * backtick-quoted names are not PostgreSQL.
 */
function tableMapping(src: TableRef, target: TableRef, ts: TableSelection | undefined): TableMapping {
  const m: TableMapping = { source: src, target };
  const columns = columnMap(ts);
  if (columns) m.columns = columns;
  if (ts?.filtered && ts.filter_conditions?.[0]) m.where = validateRowFilter(ts.filter_conditions[0], src.schema !== undefined ? 'postgresql' : 'mysql');
  return m;
}

/**
 * Table mappings for the selection, in a stable order. `strict`: names selected but absent from
 * `objects` are an error (a plan must not silently skip them).
 */
export function resolveSelection(sel: DbObjectSelection, objects: DbObjects, strict = true): TableMapping[] {
  const out: TableMapping[] = [];
  const info = sel.object_info ?? {};
  for (const db of objects.databases) {
    const d = sel.object_scope === 'all' ? undefined : info[db.name];
    if (sel.object_scope !== 'all' && !d) continue;
    const targetDb = targetName(d?.name, db.name);
    const wholeDb = sel.object_scope === 'all' || d?.all === true || (!d?.tables && !d?.schemas);
    if (db.schemas) {
      for (const schema of db.schemas) {
        const s = d?.schemas?.[schema.name];
        if (!wholeDb && !s) continue;
        const wholeSchema = wholeDb || s?.all === true || !s?.tables;
        for (const table of schema.tables) {
          const ts = s?.tables?.[table];
          if (!wholeSchema && !ts) continue;
          out.push(tableMapping({ db: db.name, schema: schema.name, table }, { db: targetDb, schema: targetName(s?.name, schema.name), table: targetName(ts?.name, table) }, ts));
        }
      }
    } else {
      for (const table of db.tables ?? []) {
        const ts = d?.tables?.[table];
        if (!wholeDb && !ts) continue;
        out.push(tableMapping({ db: db.name, table }, { db: targetDb, table: targetName(ts?.name, table) }, ts));
      }
    }
  }
  // Names selected but absent from the source are a configuration error, not a silent skip.
  if (strict && sel.object_scope !== 'all') {
    for (const [db, d] of Object.entries(info)) {
      const found = objects.databases.find((x) => x.name === db);
      if (!found) throw new InvalidParameterError(`db_object.object_info.${db}`, 'the database does not exist on the source');
      for (const t of Object.keys(d.tables ?? {})) {
        if (!(found.tables ?? []).includes(t)) throw new InvalidParameterError(`db_object.object_info.${db}.tables.${t}`, 'the table does not exist on the source');
      }
      for (const [s, ss] of Object.entries(d.schemas ?? {})) {
        const fs = found.schemas?.find((x) => x.name === s);
        if (!fs) throw new InvalidParameterError(`db_object.object_info.${db}.schemas.${s}`, 'the schema does not exist on the source');
        for (const t of Object.keys(ss.tables ?? {})) if (!fs.tables.includes(t)) throw new InvalidParameterError(`db_object.object_info.${db}.schemas.${s}.tables.${t}`, 'the table does not exist on the source');
      }
    }
  }
  return out;
}

/** Where a table that appears later (CREATE TABLE during CDC) goes, if the selection covers it. */
export function mappingFor(sel: DbObjectSelection, ref: TableRef): TableMapping | undefined {
  const objects: DbObjects = { databases: [ref.schema !== undefined ? { name: ref.db, schemas: [{ name: ref.schema, tables: [ref.table] }] } : { name: ref.db, tables: [ref.table] }] };
  return resolveSelection(sel, objects, false)[0];
}

export const refName = (r: TableRef) => [r.db, r.schema, r.table].filter((x) => x !== undefined).join('.');
