/**
 * Object compare, pure: the job's selected objects after renames, as each database's catalog
 * describes them, compared object by object.
 *   DB     the database (PostgreSQL: database.schema) each selected table lives in exists on the target
 *   TABLE  the table exists; columns (name, type, nullability, default) are the same, after the
 *          job's column renames and drops
 *   INDEX  primary key, unique keys and indexes: an index matches one on the other side with the
 *          same name, or else with the same columns and uniqueness (a renamed table renames its
 *          primary key index on PostgreSQL)
 * Each difference names the object, what differs, the source value and the target value.
 */
import type { ObjectDescription, ObjectIndex, ObjectTable, TableMapping, TableRef } from '../engines/engine.js';
import { mapObjectTable } from '../engines/column-map.js';
import type { ObjectDifference, ObjectOverview, ObjectType } from './model.js';
import { refName } from './model.js';

export interface ObjectCompareOutcome {
  overview: ObjectOverview[];
  differences: ObjectDifference[];
}

const dbKey = (r: { db: string; schema?: string }) => JSON.stringify([r.db, r.schema ?? null]);
const dbLabel = (r: { db: string; schema?: string }) => (r.schema !== undefined ? `${r.db}.${r.schema}` : r.db);
const tableKey = (r: TableRef) => JSON.stringify([r.db, r.schema ?? null, r.table]);

/** The databases (and schemas) of the mappings, as source → target pairs. */
export function databasePairs(mappings: TableMapping[]): { source: { db: string; schema?: string }; target: { db: string; schema?: string } }[] {
  const seen = new Map<string, { source: { db: string; schema?: string }; target: { db: string; schema?: string } }>();
  for (const m of mappings) {
    const s = { db: m.source.db, ...(m.source.schema !== undefined ? { schema: m.source.schema } : {}) };
    const t = { db: m.target.db, ...(m.target.schema !== undefined ? { schema: m.target.schema } : {}) };
    if (!seen.has(dbKey(s))) seen.set(dbKey(s), { source: s, target: t });
  }
  return [...seen.values()];
}

const sig = (i: ObjectIndex) => JSON.stringify([i.primary, i.unique, i.columns]);
const describeIndex = (i: ObjectIndex) => `${i.primary ? 'PRIMARY KEY' : i.unique ? 'UNIQUE' : 'INDEX'} ${i.name} (${i.columns.join(', ')})`;

export function compareObjects(mappings: TableMapping[], source: ObjectDescription, target: ObjectDescription): ObjectCompareOutcome {
  const differences: ObjectDifference[] = [];
  const srcTables = new Map(source.tables.map((t) => [tableKey(t.ref), t]));
  const tgtTables = new Map(target.tables.map((t) => [tableKey(t.ref), t]));
  const tgtDbs = new Map(target.databases.map((d) => [dbKey(d), d.exists]));
  const diff = (type: ObjectType, m: TableMapping | { source: { db: string }; target: { db: string } }, object: string, targetObject: string, what: string, sourceValue: string, targetValue: string) =>
    differences.push({ type, sourceDb: m.source.db, targetDb: m.target.db, object, targetObject, what, sourceValue, targetValue });

  // DB
  const pairs = databasePairs(mappings);
  let dbTarget = 0;
  for (const p of pairs) {
    if (tgtDbs.get(dbKey(p.target))) dbTarget++;
    else diff('DB', p, dbLabel(p.source), dbLabel(p.target), 'missing on the target', dbLabel(p.source), '');
  }

  // TABLE and INDEX
  let tablesTarget = 0;
  let tableDiffs = 0;
  let idxSource = 0;
  let idxTarget = 0;
  let idxDiffs = 0;
  for (const m of mappings) {
    const read = srcTables.get(tableKey(m.source));
    // What the target should hold: the source table with the job's column renames and drops.
    const s = read && mapObjectTable(read, m.columns);
    const t = tgtTables.get(tableKey(m.target));
    const object = refName(m.source);
    const targetObject = refName(m.target);
    if (!s?.exists) continue;
    idxSource += s.indexes.length;
    if (!t?.exists) {
      tableDiffs++;
      diff('TABLE', m, object, targetObject, 'missing on the target', object, '');
      continue;
    }
    tablesTarget++;
    idxTarget += t.indexes.length;
    const before = differences.length;
    compareColumns(s, t, (what, sv, tv) => diff('TABLE', m, object, targetObject, what, sv, tv));
    if (differences.length > before) tableDiffs++;
    const beforeIdx = differences.length;
    compareIndexes(s.indexes, t.indexes, (what, sv, tv) => diff('INDEX', m, object, targetObject, what, sv, tv));
    idxDiffs += differences.length - beforeIdx;
  }
  const row = (type: ObjectType, sourceCount: number, targetCount: number, diffCount: number): ObjectOverview => ({ type, sourceCount, targetCount, diffCount, status: diffCount ? 'INCONSISTENT' : 'CONSISTENT' });
  const dbDiffs = pairs.length - dbTarget;
  return {
    overview: [row('DB', pairs.length, dbTarget, dbDiffs), row('TABLE', mappings.filter((m) => srcTables.get(tableKey(m.source))?.exists).length, tablesTarget, tableDiffs), row('INDEX', idxSource, idxTarget, idxDiffs)],
    differences,
  };
}

function compareColumns(s: ObjectTable, t: ObjectTable, diff: (what: string, sourceValue: string, targetValue: string) => void): void {
  const tc = new Map(t.columns.map((c) => [c.name, c]));
  for (const c of s.columns) {
    const o = tc.get(c.name);
    if (!o) {
      diff(`column ${c.name} missing on the target`, c.type, '');
      continue;
    }
    tc.delete(c.name);
    if (o.type !== c.type) diff(`column ${c.name} type`, c.type, o.type);
    if (o.nullable !== c.nullable) diff(`column ${c.name} nullable`, c.nullable ? 'YES' : 'NO', o.nullable ? 'YES' : 'NO');
    if ((o.default ?? '') !== (c.default ?? '')) diff(`column ${c.name} default`, c.default ?? 'NULL', o.default ?? 'NULL');
  }
  for (const o of tc.values()) diff(`column ${o.name} extra on the target`, '', o.type);
}

function compareIndexes(s: ObjectIndex[], t: ObjectIndex[], diff: (what: string, sourceValue: string, targetValue: string) => void): void {
  const left = [...t];
  const take = (pred: (i: ObjectIndex) => boolean) => {
    const at = left.findIndex(pred);
    return at < 0 ? undefined : left.splice(at, 1)[0];
  };
  const unmatched: ObjectIndex[] = [];
  // Same signature first (a renamed index is the same index), then same name with a different definition.
  for (const i of s) if (!take((o) => sig(o) === sig(i))) unmatched.push(i);
  for (const i of unmatched) {
    const o = take((x) => x.name === i.name || (i.primary && x.primary));
    if (o) diff(`index ${i.name} definition`, describeIndex(i), describeIndex(o));
    else diff(`index ${i.name} missing on the target`, describeIndex(i), '');
  }
  for (const o of left) diff(`index ${o.name} extra on the target`, '', describeIndex(o));
}
