/**
 * An in-memory Comparer for unit tests: tables are arrays of rows (integer keys, text values),
 * digests are computed the way the engines compute them (count + exact sum of the first 64 bits
 * of each row's MD5), and every row handed out is counted, so a test can assert that agreeing
 * rows are never read.
 */
import { createHash } from 'node:crypto';
import type { CompareRange, Comparer, DigestRow, DigestSpec, HashKind, ObjectDescription, RangeDigest, TableRef } from '../../../lib/engines/engine.js';

export interface FakeRow {
  /** Integer key values (empty for keyless tables). */
  key: number[];
  values: (string | null)[];
}

const tkey = (t: TableRef) => JSON.stringify([t.db, t.schema ?? null, t.table]);
export const hashOf = (values: (string | null)[]) => createHash('md5').update(JSON.stringify(values)).digest('hex');

function cmp(a: number[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - Number(b[i]);
    if (d !== 0) return d;
  }
  return 0;
}

export class FakeComparer implements Comparer {
  readonly tables = new Map<string, FakeRow[]>();
  rowsRead = 0;
  digestQueries = 0;
  closed = false;
  description?: ObjectDescription;

  set(table: TableRef, rows: FakeRow[]): this {
    this.tables.set(tkey(table), rows);
    return this;
  }

  rows(table: TableRef): FakeRow[] {
    return this.tables.get(tkey(table)) ?? [];
  }

  private inRange(range: CompareRange): FakeRow[] {
    return this.rows(range.table)
      .filter((r) => (!range.lower || cmp(r.key, range.lower) > 0) && (!range.upper || cmp(r.key, range.upper) <= 0) && (!range.hashPrefix || hashOf(r.values).startsWith(range.hashPrefix)))
      .sort((a, b) => cmp(a.key, b.key));
  }

  private digest(rows: FakeRow[]): RangeDigest {
    let sum = 0n;
    for (const r of rows) sum += BigInt('0x' + hashOf(r.values).slice(0, 16));
    return { rows: rows.length, sum: sum.toString() };
  }

  async describeObjects(): Promise<ObjectDescription> {
    return this.description ?? { databases: [], tables: [] };
  }
  async hashKinds(): Promise<HashKind[]> {
    return ['md5'];
  }
  async countRows(table: TableRef): Promise<number> {
    return this.rows(table).length;
  }
  async digestRange(range: CompareRange): Promise<RangeDigest> {
    this.digestQueries++;
    return this.digest(this.inRange(range));
  }
  async digestBuckets(range: CompareRange, _spec: DigestSpec, split: { boundaries: unknown[][] } | { hashDigit: true }): Promise<Map<string, RangeDigest>> {
    this.digestQueries++;
    const groups = new Map<string, FakeRow[]>();
    for (const r of this.inRange(range)) {
      let b: string;
      if ('hashDigit' in split) b = hashOf(r.values)[range.hashPrefix?.length ?? 0]!;
      else {
        const i = split.boundaries.findIndex((x) => cmp(r.key, x) <= 0);
        b = String(i < 0 ? split.boundaries.length : i);
      }
      groups.set(b, [...(groups.get(b) ?? []), r]);
    }
    return new Map([...groups].map(([b, rows]) => [b, this.digest(rows)]));
  }
  async splitPoints(range: CompareRange, _spec: DigestSpec, every: number): Promise<unknown[][]> {
    return this.inRange(range)
      .filter((_, i) => (i + 1) % every === 0)
      .map((r) => [...r.key]);
  }
  private out(rows: FakeRow[]): DigestRow[] {
    this.rowsRead += rows.length;
    return rows.map((r) => ({ key: r.key.map(String), rawKey: [...r.key], hash: hashOf(r.values), values: [...r.values] }));
  }
  async readRange(range: CompareRange, _spec: DigestSpec, limit: number): Promise<DigestRow[]> {
    return this.out(this.inRange(range).slice(0, limit));
  }
  async readKeys(table: TableRef, _keyColumns: string[], keys: unknown[][]): Promise<DigestRow[]> {
    return this.out(this.rows(table).filter((r) => keys.some((k) => cmp(r.key, k) === 0)));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** `n` rows `id, name, amount` with keys 1..n. */
export function rowsOf(n: number, f: (i: number) => (string | null)[] = (i) => [String(i), `name-${i}`, String(i % 97)]): FakeRow[] {
  return Array.from({ length: n }, (_, k) => ({ key: [k + 1], values: f(k + 1) }));
}
