/**
 * Row filters (v3 batch-transformation "contentConditionalFilter"; v5 db_object
 * `filtered` + `filter_conditions`): one condition per table, set on tables that are already
 * selected, stored in the job's db_object tree where the full load and CDC read it. The
 * condition is parsed by the row-filter grammar (lib/engines/sql-filter.ts, through
 * validateSelection) before anything is stored, so a hostile filter never reaches a database.
 */
import { InvalidParameterError } from '../errors.js';
import { validateSelection } from '../steps/selection.js';
import { assertUpdatable, getJob, updateJob, type JobDeps } from './commands.js';
import type { DbObjectSelection, Job, TableSelection } from './job.js';

export interface FilterTarget {
  db: string;
  schema?: string;
  table: string;
}

/** Attach `condition` to each table of `targets` in `sel` (a new tree; `sel` is not changed). */
export function withRowFilter(sel: DbObjectSelection, targets: FilterTarget[], condition: string, field = 'object_info'): DbObjectSelection {
  if (sel.object_scope === 'all') throw new InvalidParameterError(field, 'row filters apply to selected tables: select the objects first (batch-select-objects), then add the filter');
  const next = structuredClone(sel);
  for (const [i, t] of targets.entries()) {
    const where = `${field}[${i}].id`;
    const d = next.object_info?.[t.db];
    if (!d) throw new InvalidParameterError(where, `database ${t.db} is not selected`);
    // A database (or schema) selected without a table list means all its tables: keep that
    // meaning explicit (`all`) before a table entry is added for the filter.
    const wholeDb = d.all === true || (!d.tables && !d.schemas);
    let tables: Record<string, TableSelection>;
    let whole: boolean;
    if (t.schema !== undefined) {
      let s = d.schemas?.[t.schema];
      if (!s && !wholeDb) throw new InvalidParameterError(where, `schema ${t.db}.${t.schema} is not selected`);
      if (wholeDb) d.all = true;
      s ??= (d.schemas ??= {})[t.schema] = { name: t.schema, all: true };
      whole = wholeDb || s.all === true || !s.tables;
      if (whole) s.all = true;
      tables = s.tables ??= {};
    } else {
      whole = wholeDb;
      if (whole) d.all = true;
      tables = d.tables ??= {};
    }
    const ts = tables[t.table];
    if (!ts && !whole) throw new InvalidParameterError(where, `table ${[t.db, t.schema, t.table].filter(Boolean).join('.')} is not selected`);
    tables[t.table] = { ...(ts ?? { name: t.table, type: 'table', all: true }), filtered: true, filter_conditions: [condition] };
  }
  return next;
}

/** Set the row filter of `targets`; configuration changes need CONFIGURATION (updateJob checks). */
export async function setRowFilter(projectId: string, id: string, targets: FilterTarget[], condition: string, deps: JobDeps): Promise<Job> {
  const job = await getJob(projectId, id, deps);
  // The status rule first: a job that cannot take a new selection is refused as such.
  assertUpdatable(job, { type: 'db_object', dbObject: job.dbObject });
  const sel = withRowFilter(job.dbObject, targets, condition);
  validateSelection(sel, job.source.dbType);
  return updateJob(projectId, id, [{ type: 'db_object', dbObject: sel }], deps);
}
