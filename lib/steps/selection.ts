/**
 * Object selection: the job's db_object tree (v5 DatabaseObject model) resolved against what the
 * source really holds, into table mappings (source → target names, row filter). Pure.
 *
 * object_scope `all`: every user database/schema and table. `database`: the listed databases,
 * all their tables unless tables are listed. `table`: only the listed tables. `name` on a
 * database, schema or table is its target name (rename); a table's `filtered` +
 * `filter_conditions[0]` is its row filter.
 */
import type { DbObjects, EngineKind, TableMapping, TableRef } from '../engines/engine.js';
import { validateRowFilter } from '../engines/sql-filter.js';
import { InvalidParameterError } from '../errors.js';
import type { DbObjectSelection, TableSelection } from '../job/job.js';

export function validateSelection(sel: DbObjectSelection, kind: EngineKind): void {
  for (const [db, d] of Object.entries(sel.object_info ?? {})) {
    const tables: [string, TableSelection][] = [
      ...Object.entries(d.tables ?? {}),
      ...Object.values(d.schemas ?? {}).flatMap((s) => Object.entries(s.tables ?? {})),
    ];
    if (kind === 'mysql' && d.schemas && Object.keys(d.schemas).length) throw new InvalidParameterError(`db_object.object_info.${db}.schemas`, 'MySQL databases have no schemas; list tables under the database');
    for (const [t, ts] of tables) {
      const path = `db_object.object_info.${db}.tables.${t}`;
      const changed = Object.entries(ts.columns ?? {}).filter(([k, c]) => c.additional || c.filtered === false || (c.name && c.name !== k));
      if (changed.length) throw new InvalidParameterError(`${path}.columns`, 'column selection, renames and additional columns are not supported by this deployment: tables are copied with all their columns');
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
