import { describe, expect, it } from 'vitest';
import { mapObjectTable, mapTableSchema, projectColumns, renameColumnRefs, sourceColumn, targetColumn } from '../../../lib/engines/column-map.js';
import { qid } from '../../../lib/engines/postgres/connection.js';
import { renameIdentifiers } from '../../../lib/engines/mysql/schema.js';
import type { TableSchema } from '../../../lib/engines/engine.js';
import { renameFilterColumns } from '../../../lib/engines/sql-filter.js';
import { InvalidParameterError } from '../../../lib/errors.js';
import type { DbObjectSelection, TableSelection } from '../../../lib/job/job.js';
import { checkColumnMaps, resolveSelection, validateSelection } from '../../../lib/steps/selection.js';

const withColumns = (columns: TableSelection['columns']): DbObjectSelection => ({ object_scope: 'table', object_info: { shop: { tables: { orders: { name: 'orders', columns } } } } });

function refusal(sel: DbObjectSelection): InvalidParameterError {
  try {
    validateSelection(sel, 'mysql');
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidParameterError);
    return e as InvalidParameterError;
  }
  throw new Error('the selection was accepted');
}

const schema: TableSchema = {
  ref: { db: 'shop', table: 'orders' },
  columns: [
    { name: 'id', type: 'int', nullable: false },
    { name: 'line', type: 'int', nullable: false },
    { name: 'qty', type: 'int', nullable: true },
    { name: 'note', type: 'text', nullable: true },
  ],
  primaryKey: ['id', 'line'],
  indexes: [
    { name: 'PRIMARY', columns: ['id', 'line'], unique: true, primary: true },
    { name: 'by_qty', columns: ['qty', 'id'], unique: false, primary: false },
    { name: 'by_note', columns: ['note'], unique: false, primary: false },
  ],
  estimatedRows: 0,
  estimatedBytes: 0,
};

describe('column renames and drops in the selection', () => {
  it('accepts a rename and a drop and carries them in the table mapping', () => {
    // Prepare
    const sel = withColumns({ qty: { name: `it's "qty" ü`, filtered: true }, note: { filtered: false }, id: { name: 'id' } });

    // Act
    validateSelection(sel, 'mysql');
    const [m] = resolveSelection(sel, { databases: [{ name: 'shop', tables: ['orders'] }] });

    // Assess
    expect(m!.columns).toEqual({ rename: { qty: `it's "qty" ü` }, drop: ['note'] });
  });

  it('carries no column map when nothing is renamed or dropped', () => {
    const [m] = resolveSelection(withColumns({ qty: { name: 'qty', filtered: true } }), { databases: [{ name: 'shop', tables: ['orders'] }] });
    expect(m!.columns).toBeUndefined();
  });

  it('refuses additional columns, naming the field', () => {
    const e = refusal(withColumns({ created: { name: 'created', additional: true, operation_type: 'ADDITIONALCOLUMN,create_time' } }));
    expect(e.field).toBe('db_object.object_info.shop.tables.orders.columns.created.additional');
    expect(e.message).toMatch(/additional columns are not supported/);
  });

  it('refuses dropping a column the request marks as primary key', () => {
    const e = refusal(withColumns({ id: { filtered: false, primary_key_for_column_filtering: 'PRI' } }));
    expect(e.field).toBe('db_object.object_info.shop.tables.orders.columns.id.filtered');
    expect(e.message).toMatch(/primary key/);
  });

  it('refuses two columns mapped to the same target name', () => {
    const e = refusal(withColumns({ qty: { name: 'amount' }, note: { name: 'amount' } }));
    expect(e.field).toBe('db_object.object_info.shop.tables.orders.columns.note.name');
    expect(e.message).toMatch(/both mapped to amount/);
  });

  it('refuses a rename onto a column that keeps its own name', () => {
    const e = refusal(withColumns({ qty: {}, note: { name: 'qty' } }));
    expect(e.message).toMatch(/both mapped to qty/);
  });

  it('refuses an empty target name and one longer than 64 characters', () => {
    expect(refusal(withColumns({ qty: { name: '  ' } })).field).toBe('db_object.object_info.shop.tables.orders.columns.qty.name');
    expect(refusal(withColumns({ qty: { name: 'x'.repeat(65) } })).message).toMatch(/longer than 64/);
    expect(() => validateSelection(withColumns({ qty: { name: 'ü'.repeat(64) } }), 'mysql')).not.toThrow();
  });

  it('checks the map against the source table: unknown columns and dropped key columns are named', () => {
    const [m] = resolveSelection(withColumns({ nope: { name: 'x' }, line: { filtered: false } }), { databases: [{ name: 'shop', tables: ['orders'] }] });
    let error: unknown;
    try {
      checkColumnMaps([m!], [schema]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).field).toBe('db_object.object_info.shop.tables.orders.columns');
    expect((error as Error).message).toMatch(/column nope does not exist on the source table/);
    expect((error as Error).message).toMatch(/column line is part of the primary key/);
  });

  it('checks a rename onto an existing, unmapped column of the source', () => {
    const [m] = resolveSelection(withColumns({ qty: { name: 'note' } }), { databases: [{ name: 'shop', tables: ['orders'] }] });
    expect(() => checkColumnMaps([m!], [schema])).toThrow(/two columns would be called note/);
  });
});

describe('column-map helpers', () => {
  const map = { rename: { qty: 'amount', constructor: 'ctor' }, drop: ['note'] };

  it('maps names both ways and projects column lists', () => {
    expect(targetColumn(map, 'qty')).toBe('amount');
    expect(targetColumn(map, 'note')).toBeUndefined();
    expect(targetColumn(map, 'id')).toBe('id');
    expect(targetColumn({ rename: {}, drop: [] }, 'constructor')).toBe('constructor');
    expect(targetColumn({ rename: {}, drop: [] }, '__proto__')).toBe('__proto__');
    expect(sourceColumn(map, 'amount')).toBe('qty');
    expect(projectColumns(map, ['id', 'note', 'qty'])).toEqual({ index: [0, 2], source: ['id', 'qty'], target: ['id', 'amount'] });
  });

  it('maps a schema: renamed key and index columns, an index over a dropped column left out', () => {
    const { schema: s, leftOut } = mapTableSchema(schema, { rename: { id: 'order id', qty: 'amount' }, drop: ['note'] });
    expect(s.columns.map((c) => c.name)).toEqual(['order id', 'line', 'amount']);
    expect(s.primaryKey).toEqual(['order id', 'line']);
    expect(s.indexes.map((i) => [i.name, i.columns])).toEqual([
      ['PRIMARY', ['order id', 'line']],
      ['by_qty', ['amount', 'order id']],
    ]);
    expect(leftOut.map((i) => i.name)).toEqual(['by_note']);
    const o = mapObjectTable({ ref: schema.ref, exists: true, columns: [], primaryKey: ['id'], indexes: schema.indexes }, { rename: { id: 'k' }, drop: ['note'] });
    expect(o.indexes.map((i) => i.name)).toEqual(['PRIMARY', 'by_qty']);
  });

  it('rewrites a row filter to the target names, and gives up on a dropped column', () => {
    expect(renameFilterColumns("qty > 2 AND `id` IN (1, 2)", 'mysql', (c) => targetColumn(map, c))).toBe('((`amount` > 2) AND (`id` IN (1, 2)))');
    expect(renameFilterColumns('"qty" > 2', 'postgresql', (c) => (c === 'qty' ? `a"b` : c))).toBe('("a""b" > 2)');
    expect(renameFilterColumns("note LIKE 'x%'", 'mysql', (c) => targetColumn(map, c))).toBeUndefined();
  });

  it('renames column references in catalog-printed PostgreSQL definitions, and nothing else', () => {
    const m = { rename: { body: `it's "b"`, btree: 'x', text: 'y', c: 'z' }, drop: ['secret'] };
    expect(renameColumnRefs(qid, 'USING btree ("left"(body, 10), body COLLATE "C" DESC NULLS LAST) WHERE (body <> \'body\'::text)', m).text).toBe(
      'USING btree ("left"("it\'s ""b""", 10), "it\'s ""b""" COLLATE "C" DESC NULLS LAST) WHERE ("it\'s ""b""" <> \'body\'::text)',
    );
    expect(renameColumnRefs(qid, "CHECK ((secret <> E'body\\'s'))", m)).toEqual({ text: "CHECK ((secret <> E'body\\'s'))", dropped: ['secret'] });
    expect(renameColumnRefs(qid, 'FOREIGN KEY (body) REFERENCES public.t(body)', m).text).toBe('FOREIGN KEY ("it\'s ""b""") REFERENCES public.t("it\'s ""b""")');
  });

  it('renames backtick identifiers in MySQL DDL text, skipping strings and the index name', () => {
    const m = { rename: { qty: 'a`b', by_qty: 'no' }, drop: ['secret'] };
    expect(renameIdentifiers("KEY `by_qty` (`qty`,`id`) COMMENT 'it''s `qty`'", m, true)).toEqual({ text: "KEY `by_qty` (`a``b`,`id`) COMMENT 'it''s `qty`'", dropped: [] });
    expect(renameIdentifiers('CONSTRAINT `c` CHECK (`secret` <> "x`qty`")', m, true).dropped).toEqual(['secret']);
  });
});
