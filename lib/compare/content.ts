/**
 * Content compare of one key range (or one keyless table), engine-agnostic: the digests are
 * computed inside each database (Comparer.digestRange); only when the two digests differ is the
 * range narrowed, recursively, into `fanout` sub-ranges digested in one query per side, until a
 * differing sub-range is small enough (`leafRows`) to read its rows from both sides and tell the
 * differing rows apart:
 *   - keyed tables: sub-ranges are cut at every n-th key of the side with more rows; a leaf's rows
 *     are matched by key: missing on the target, extra on the target, or different (with the
 *     columns that differ);
 *   - keyless tables: the whole-row multiset is cut by the next hex digit of the row hash; a leaf's
 *     rows are matched by row hash with multiplicity: missing or extra.
 * A sub-range empty on one side is not narrowed further: all its rows differ, and only the first
 * few are read to be listed. Agreeing sub-ranges are never read.
 *
 * While incremental sync runs, a row can differ only because its change is still in flight, so
 * `recheck` re-reads the differing rows after the job's lag and keeps only those that still differ.
 */
import type { Comparer, CompareRange, DigestRow, DigestSpec, RangeDigest, TableRef } from '../engines/engine.js';
import { MAX_STORED_VALUE, type RowDifference } from './model.js';

export interface CompareSide {
  comparer: Comparer;
  table: TableRef;
  spec: DigestSpec;
  /** This side's names of the key columns, when the job renames them (default: the names given to compareRange). */
  keyColumns?: string[];
}

export interface RangeBounds {
  lower?: unknown[];
  upper?: unknown[];
  hashPrefix?: string;
}

export interface ContentOptions {
  /** Read rows when both sides of a differing range have at most this many. */
  leafRows: number;
  /** Sub-ranges per narrowing step. */
  fanout: number;
  /** Differences kept (listed); the counts are exact beyond it. */
  maxStored: number;
  /** Called between steps: true stops the compare (cancelled, lease lost, paused job). */
  shouldStop?: () => Promise<boolean>;
  /** Rows digested by each query (both sides), for throttling and progress. */
  onRows?: (rows: number) => Promise<void>;
}

export const DEFAULT_CONTENT_OPTIONS: ContentOptions = { leafRows: 64, fanout: 16, maxStored: 500 };

export interface RangeOutcome {
  sourceRows: number;
  targetRows: number;
  missing: number;
  extra: number;
  different: number;
  differences: RowDifference[];
  /** More differences than were kept. */
  truncated: boolean;
}

export class CompareStoppedError extends Error {
  constructor() {
    super('The compare was stopped.');
    this.name = 'CompareStoppedError';
  }
}

const EMPTY: RangeDigest = { rows: 0, sum: '0' };
const same = (a: RangeDigest, b: RangeDigest) => a.rows === b.rows && a.sum === b.sum;
/** Stored values of one row stay under this many characters in all (a store item holds at most 400 KB). */
const MAX_STORED_ROW = 32_768;
const trunc = (v: string | null, max = MAX_STORED_VALUE) => (v !== null && v.length > max ? v.slice(0, max) : v);
const truncRow = (values: (string | null)[]) => values.map((v) => trunc(v, Math.max(16, Math.min(MAX_STORED_VALUE, Math.floor(MAX_STORED_ROW / Math.max(1, values.length))))));

/** Compare one range of one table on both sides. */
export async function compareRange(src: CompareSide, tgt: CompareSide, keyColumns: string[], bounds: RangeBounds, tableIndex: number, opts: ContentOptions = DEFAULT_CONTENT_OPTIONS): Promise<RangeOutcome> {
  const out: RangeOutcome = { sourceRows: 0, targetRows: 0, missing: 0, extra: 0, different: 0, differences: [], truncated: false };
  const range = (side: CompareSide, b: RangeBounds): CompareRange => ({ table: side.table, keyColumns: side.keyColumns ?? keyColumns, ...b });
  const keep = (d: RowDifference) => {
    if (out.differences.length < opts.maxStored) out.differences.push(d);
    else out.truncated = true;
  };
  const checkpoint = async () => {
    if (opts.shouldStop && (await opts.shouldStop())) throw new CompareStoppedError();
  };

  const leaf = async (b: RangeBounds, limit: number) => {
    const [a, t] = await Promise.all([src.comparer.readRange(range(src, b), src.spec, limit), tgt.comparer.readRange(range(tgt, b), tgt.spec, limit)]);
    const found = diffRows(a, t, src.spec, keyColumns, tableIndex);
    for (const d of found) {
      out[d.kind]++;
      keep(d);
    }
  };

  /** One side has no rows here: every row of the other side differs; list the first few. */
  const oneSided = async (b: RangeBounds, kind: 'missing' | 'extra', rows: number) => {
    out[kind] += rows;
    const room = opts.maxStored - out.differences.length;
    if (room <= 0) {
      out.truncated = true;
      return;
    }
    const side = kind === 'missing' ? src : tgt;
    const listed = await side.comparer.readRange(range(side, b), side.spec, Math.min(room, rows));
    for (const r of listed) keep(rowDiff(r, kind, keyColumns, tableIndex));
    if (rows > listed.length) out.truncated = true;
  };

  const narrow = async (b: RangeBounds, a: RangeDigest, t: RangeDigest): Promise<void> => {
    await checkpoint();
    const most = Math.max(a.rows, t.rows);
    if (a.rows === 0 || t.rows === 0) return oneSided(b, a.rows === 0 ? 'extra' : 'missing', most);
    if (most <= opts.leafRows) return leaf(b, most * 2 + 16);
    if (keyColumns.length) {
      const side = a.rows >= t.rows ? src : tgt;
      const points = await side.comparer.splitPoints(range(side, b), side.spec, Math.ceil(most / opts.fanout));
      // The last point may be the range's last key: a sub-range past it would be empty on that side, not a problem.
      if (points.length === 0) return leaf(b, most * 2 + 16);
      const [sa, ta] = await Promise.all([
        src.comparer.digestBuckets(range(src, b), src.spec, { boundaries: points }),
        tgt.comparer.digestBuckets(range(tgt, b), tgt.spec, { boundaries: points }),
      ]);
      await opts.onRows?.(a.rows + t.rows);
      for (let i = 0; i <= points.length; i++) {
        const sub: RangeBounds = { lower: i === 0 ? b.lower : points[i - 1], upper: i === points.length ? b.upper : points[i] };
        const da = sa.get(String(i)) ?? EMPTY;
        const dt = ta.get(String(i)) ?? EMPTY;
        if (!same(da, dt)) await narrow(sub, da, dt);
      }
      return;
    }
    // Keyless: identical rows share a hash, so a prefix as long as the hash cannot be split further.
    if ((b.hashPrefix?.length ?? 0) >= 32) return leaf(b, most * 2 + 16);
    const [sa, ta] = await Promise.all([src.comparer.digestBuckets(range(src, b), src.spec, { hashDigit: true }), tgt.comparer.digestBuckets(range(tgt, b), tgt.spec, { hashDigit: true })]);
    await opts.onRows?.(a.rows + t.rows);
    for (const d of [...new Set([...sa.keys(), ...ta.keys()])].sort()) {
      const da = sa.get(d) ?? EMPTY;
      const dt = ta.get(d) ?? EMPTY;
      if (!same(da, dt)) await narrow({ hashPrefix: (b.hashPrefix ?? '') + d }, da, dt);
    }
  };

  await checkpoint();
  const [a, t] = await Promise.all([src.comparer.digestRange(range(src, bounds), src.spec), tgt.comparer.digestRange(range(tgt, bounds), tgt.spec)]);
  await opts.onRows?.(a.rows + t.rows);
  out.sourceRows = a.rows;
  out.targetRows = t.rows;
  if (!same(a, t)) await narrow(bounds, a, t);
  return out;
}

function rowDiff(r: DigestRow, kind: 'missing' | 'extra', keyColumns: string[], tableIndex: number): RowDifference {
  if (keyColumns.length) return { tableIndex, kind, key: r.key, rawKey: r.rawKey };
  const values = truncRow(r.values);
  return { tableIndex, kind, key: [], ...(kind === 'missing' ? { sourceValues: values } : { targetValues: values }) };
}

/** The differences between the rows of one range as read from both sides. Pure. */
export function diffRows(a: DigestRow[], t: DigestRow[], spec: DigestSpec, keyColumns: string[], tableIndex: number): RowDifference[] {
  const out: RowDifference[] = [];
  if (keyColumns.length) {
    const byKey = new Map(t.map((r) => [JSON.stringify(r.key), r]));
    for (const r of a) {
      const k = JSON.stringify(r.key);
      const other = byKey.get(k);
      if (!other) {
        out.push(rowDiff(r, 'missing', keyColumns, tableIndex));
        continue;
      }
      byKey.delete(k);
      if (other.hash === r.hash) continue;
      const cols = spec.columns.map((c, i) => ({ name: c.name, s: r.values[i] ?? null, t: other.values[i] ?? null })).filter((x) => x.s !== x.t);
      // Equal normalised values with different hashes cannot happen; report the row whole if it does.
      const differing = cols.length ? cols : spec.columns.map((c, i) => ({ name: c.name, s: r.values[i] ?? null, t: other.values[i] ?? null }));
      out.push({ tableIndex, kind: 'different', key: r.key, rawKey: r.rawKey, columns: differing.map((c) => c.name), sourceValues: truncRow(differing.map((c) => c.s)), targetValues: truncRow(differing.map((c) => c.t)) });
    }
    for (const r of byKey.values()) out.push(rowDiff(r, 'extra', keyColumns, tableIndex));
    return out;
  }
  // Whole-row multisets: match by hash with multiplicity.
  const pool = new Map<string, DigestRow[]>();
  for (const r of t) pool.set(r.hash, [...(pool.get(r.hash) ?? []), r]);
  for (const r of a) {
    const same = pool.get(r.hash);
    if (same?.length) same.pop();
    else out.push(rowDiff(r, 'missing', keyColumns, tableIndex));
  }
  for (const rows of pool.values()) for (const r of rows) out.push(rowDiff(r, 'extra', keyColumns, tableIndex));
  return out;
}

/**
 * Re-read the rows that differed (by key) on both sides and keep those that still differ. Keyless
 * tables have no key to look rows up by: the range is compared again and only differences found
 * both times are kept. Counts are recomputed from the kept differences unless the first pass
 * listed only some of them.
 */
export async function recheck(src: CompareSide, tgt: CompareSide, keyColumns: string[], bounds: RangeBounds, tableIndex: number, first: RangeOutcome, opts: ContentOptions = DEFAULT_CONTENT_OPTIONS): Promise<RangeOutcome> {
  if (first.differences.length === 0) return first;
  let kept: RowDifference[];
  if (keyColumns.length) {
    const keys = new Map(first.differences.map((d) => [JSON.stringify(d.key), d.rawKey ?? d.key]));
    const raw = [...keys.values()];
    const [a, t] = await Promise.all([src.comparer.readKeys(src.table, src.keyColumns ?? keyColumns, raw, src.spec), tgt.comparer.readKeys(tgt.table, tgt.keyColumns ?? keyColumns, raw, tgt.spec)]);
    kept = diffRows(a, t, src.spec, keyColumns, tableIndex);
  } else {
    const again = await compareRange(src, tgt, keyColumns, bounds, tableIndex, opts);
    const sig = (d: RowDifference) => JSON.stringify([d.kind, d.sourceValues ?? d.targetValues]);
    const before = new Map<string, number>();
    for (const d of first.differences) before.set(sig(d), (before.get(sig(d)) ?? 0) + 1);
    kept = again.differences.filter((d) => {
      const n = before.get(sig(d)) ?? 0;
      if (n > 0) before.set(sig(d), n - 1);
      return n > 0;
    });
  }
  if (first.truncated) return { ...first, differences: kept };
  const count = (k: RowDifference['kind']) => kept.filter((d) => d.kind === k).length;
  return { ...first, missing: count('missing'), extra: count('extra'), different: count('different'), differences: kept };
}
