import { describe, expect, it } from 'vitest';
import { compareObjects, databasePairs } from '../../../lib/compare/objects.js';
import type { ObjectColumn, ObjectDescription, ObjectIndex, ObjectTable, TableMapping } from '../../../lib/engines/engine.js';

const c = (name: string, type = 'int', extra: Partial<ObjectColumn> = {}): ObjectColumn => ({ name, type, dataType: type.replace(/\(.*/, ''), nullable: true, ...extra });
const ix = (name: string, columns: string[], kind: 'primary' | 'unique' | 'index' = 'index'): ObjectIndex => ({ name, columns, primary: kind === 'primary', unique: kind !== 'index' });
const table = (db: string, t: string, columns: ObjectColumn[], indexes: ObjectIndex[] = []): ObjectTable => ({ ref: { db, table: t }, exists: true, columns, indexes, primaryKey: indexes.find((i) => i.primary)?.columns ?? [] });
const missing = (db: string, t: string): ObjectTable => ({ ref: { db, table: t }, exists: false, columns: [], indexes: [], primaryKey: [] });
const map = (t: string, to = t, db = 'shop', toDb = 'shop_copy'): TableMapping => ({ source: { db, table: t }, target: { db: toDb, table: to } });

const orders = (db: string, cols = [c('id', 'int', { nullable: false }), c('note', 'varchar(20)', { default: "'x'" })], idx = [ix('PRIMARY', ['id'], 'primary'), ix('k_note', ['note'])]) => table(db, 'orders', cols, idx);

describe('compareObjects', () => {
  it('finds nothing when both catalogs describe the same objects, renames applied', () => {
    // Prepare
    const src: ObjectDescription = { databases: [{ db: 'shop', exists: true }], tables: [orders('shop')] };
    const dst: ObjectDescription = { databases: [{ db: 'shop_copy', exists: true }], tables: [orders('shop_copy')] };

    // Act
    const out = compareObjects([map('orders')], src, dst);

    // Assess
    expect(out.differences).toEqual([]);
    expect(out.overview).toEqual([
      { type: 'DB', sourceCount: 1, targetCount: 1, diffCount: 0, status: 'CONSISTENT' },
      { type: 'TABLE', sourceCount: 1, targetCount: 1, diffCount: 0, status: 'CONSISTENT' },
      { type: 'INDEX', sourceCount: 2, targetCount: 2, diffCount: 0, status: 'CONSISTENT' },
    ]);
  });

  it('reports each column difference with the source and target values', () => {
    const src = { databases: [{ db: 'shop', exists: true }], tables: [orders('shop', [c('id', 'int', { nullable: false }), c('note', 'varchar(20)', { default: "'x'" }), c('gone')])] };
    const dst = { databases: [{ db: 'shop_copy', exists: true }], tables: [orders('shop_copy', [c('id', 'bigint', { nullable: true }), c('note', 'varchar(20)', { default: "'y'" }), c('added', 'text')])] };

    const out = compareObjects([map('orders')], src, dst);

    expect(out.differences.map((d) => [d.type, d.object, d.targetObject, d.what, d.sourceValue, d.targetValue])).toEqual([
      ['TABLE', 'shop.orders', 'shop_copy.orders', 'column id type', 'int', 'bigint'],
      ['TABLE', 'shop.orders', 'shop_copy.orders', 'column id nullable', 'NO', 'YES'],
      ['TABLE', 'shop.orders', 'shop_copy.orders', 'column note default', "'x'", "'y'"],
      ['TABLE', 'shop.orders', 'shop_copy.orders', 'column gone missing on the target', 'int', ''],
      ['TABLE', 'shop.orders', 'shop_copy.orders', 'column added extra on the target', '', 'text'],
    ]);
    expect(out.overview[1]).toMatchObject({ type: 'TABLE', diffCount: 1, status: 'INCONSISTENT' });
  });

  it('matches a renamed index by its columns, and reports missing, extra and changed keys', () => {
    const src = { databases: [{ db: 'shop', exists: true }], tables: [orders('shop', undefined, [ix('PRIMARY', ['id'], 'primary'), ix('k_note', ['note']), ix('u_a', ['a'], 'unique'), ix('k_b', ['b'])])] };
    const dst = { databases: [{ db: 'shop_copy', exists: true }], tables: [orders('shop_copy', undefined, [ix('PRIMARY', ['id', 'note'], 'primary'), ix('orders_note_idx', ['note']), ix('k_b', ['b', 'c']), ix('k_x', ['x'])])] };

    const out = compareObjects([map('orders')], src, dst);

    expect(out.differences.filter((d) => d.type === 'INDEX').map((d) => [d.what, d.sourceValue, d.targetValue])).toEqual([
      ['index PRIMARY definition', 'PRIMARY KEY PRIMARY (id)', 'PRIMARY KEY PRIMARY (id, note)'],
      ['index u_a missing on the target', 'UNIQUE u_a (a)', ''],
      ['index k_b definition', 'INDEX k_b (b)', 'INDEX k_b (b, c)'],
      ['index k_x extra on the target', '', 'INDEX k_x (x)'],
    ]);
    expect(out.overview[2]).toMatchObject({ type: 'INDEX', sourceCount: 4, targetCount: 4, diffCount: 4, status: 'INCONSISTENT' });
  });

  it('reports a missing target database and missing target tables', () => {
    const src = { databases: [{ db: 'shop', exists: true }], tables: [orders('shop'), table('shop', 'items', [c('id')])] };
    const dst = { databases: [{ db: 'shop_copy', exists: false }], tables: [missing('shop_copy', 'orders'), missing('shop_copy', 'items')] };

    const out = compareObjects([map('orders'), map('items')], src, dst);

    expect(out.differences.map((d) => [d.type, d.object, d.what])).toEqual([
      ['DB', 'shop', 'missing on the target'],
      ['TABLE', 'shop.orders', 'missing on the target'],
      ['TABLE', 'shop.items', 'missing on the target'],
    ]);
    expect(out.overview.map((o) => [o.type, o.sourceCount, o.targetCount, o.status])).toEqual([
      ['DB', 1, 0, 'INCONSISTENT'],
      ['TABLE', 2, 0, 'INCONSISTENT'],
      ['INDEX', 2, 0, 'CONSISTENT'],
    ]);
  });

  it('groups PostgreSQL tables by database and schema', () => {
    const m: TableMapping[] = [
      { source: { db: 'd', schema: 'public', table: 'a' }, target: { db: 'd2', schema: 'public', table: 'a' } },
      { source: { db: 'd', schema: 'sales', table: 'b' }, target: { db: 'd2', schema: 'sales2', table: 'b' } },
      { source: { db: 'd', schema: 'sales', table: 'c' }, target: { db: 'd2', schema: 'sales2', table: 'c' } },
    ];
    expect(databasePairs(m)).toEqual([
      { source: { db: 'd', schema: 'public' }, target: { db: 'd2', schema: 'public' } },
      { source: { db: 'd', schema: 'sales' }, target: { db: 'd2', schema: 'sales2' } },
    ]);
  });
});
