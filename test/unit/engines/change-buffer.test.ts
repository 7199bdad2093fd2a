import { describe, expect, it } from 'vitest';
import { takeTransactions } from '../../../lib/engines/change-buffer.js';
import type { ChangeTransaction } from '../../../lib/engines/engine.js';

const tx = (n: number, id: number): ChangeTransaction => ({
  position: { kind: 'mysql', file: 'binlog.000001', pos: id },
  commitTime: 0,
  receivedAt: 0,
  changes: Array.from({ length: n }, () => ({ op: 'delete' as const, table: { db: 'd', table: 't' }, columns: ['id'], before: [id] })),
});
const ids = (txs: ChangeTransaction[]) => txs.map((t) => (t.position as { pos: number }).pos);

describe('takeTransactions', () => {
  it('hands out whole transactions in order, up to the transaction and event limits, and removes them', () => {
    const ready = [tx(2, 1), tx(3, 2), tx(0, 3), tx(4, 4), tx(1, 5)];
    const a = takeTransactions(ready, { maxTransactions: 10, maxEvents: 6 });
    expect(ids(a.batch)).toEqual([1, 2, 3]);
    expect(a.events).toBe(5);
    const b = takeTransactions(ready, { maxTransactions: 1, maxEvents: 100 });
    expect(ids(b.batch)).toEqual([4]);
    expect(ids(ready)).toEqual([5]);
  });
  it('always hands out one transaction, however large, and nothing from an empty buffer', () => {
    const ready = [tx(50, 1), tx(1, 2)];
    expect(ids(takeTransactions(ready, { maxTransactions: 0, maxEvents: 10 }).batch)).toEqual([1]);
    expect(takeTransactions([], { maxTransactions: 5, maxEvents: 5 })).toEqual({ batch: [], events: 0 });
  });
});
