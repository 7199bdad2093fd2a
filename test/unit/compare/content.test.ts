import { describe, expect, it } from 'vitest';
import { compareRange, CompareStoppedError, DEFAULT_CONTENT_OPTIONS, diffRows, recheck, type CompareSide } from '../../../lib/compare/content.js';
import type { DigestSpec, ObjectColumn } from '../../../lib/engines/engine.js';
import { FakeComparer, rowsOf, type FakeRow } from './fake-comparer.js';

const col = (name: string): ObjectColumn => ({ name, type: 'text', dataType: 'text', nullable: true });
const spec: DigestSpec = { columns: [col('id'), col('name'), col('amount')] };
const S = { db: 'src', table: 't' };
const T = { db: 'dst', table: 't' };

function sides(source: FakeRow[], target: FakeRow[]) {
  const s = new FakeComparer().set(S, source);
  const t = new FakeComparer().set(T, target);
  const src: CompareSide = { comparer: s, table: S, spec };
  const tgt: CompareSide = { comparer: t, table: T, spec };
  return { s, t, src, tgt };
}

describe('compareRange (keyed)', () => {
  it('answers from one digest per side when the tables agree, reading no row', async () => {
    // Prepare
    const { s, t, src, tgt } = sides(rowsOf(10_000), rowsOf(10_000));

    // Act
    const out = await compareRange(src, tgt, ['id'], {}, 0);

    // Assess
    expect(out).toEqual({ sourceRows: 10_000, targetRows: 10_000, missing: 0, extra: 0, different: 0, differences: [], truncated: false });
    expect([s.digestQueries, t.digestQueries, s.rowsRead, t.rowsRead]).toEqual([1, 1, 0, 0]);
  });

  it('narrows a missing, an extra and a changed row out of 10,000, reading only a few rows', async () => {
    const source = rowsOf(10_000);
    const target = rowsOf(10_000).filter((r) => r.key[0] !== 4321);
    target.push({ key: [10_001], values: ['10001', 'new', '0'] });
    target.find((r) => r.key[0] === 777)!.values[1] = 'changed';
    const { s, t, src, tgt } = sides(source, target);

    const out = await compareRange(src, tgt, ['id'], {}, 3);

    expect(out).toMatchObject({ sourceRows: 10_000, targetRows: 10_000, missing: 1, extra: 1, different: 1, truncated: false });
    expect(out.differences).toEqual(
      expect.arrayContaining([
        { tableIndex: 3, kind: 'missing', key: ['4321'], rawKey: [4321] },
        { tableIndex: 3, kind: 'extra', key: ['10001'], rawKey: [10_001] },
        { tableIndex: 3, kind: 'different', key: ['777'], rawKey: [777], columns: ['name'], sourceValues: ['name-777'], targetValues: ['changed'] },
      ]),
    );
    expect(out.differences).toHaveLength(3);
    expect(s.rowsRead + t.rowsRead).toBeLessThan(4 * DEFAULT_CONTENT_OPTIONS.leafRows);
  });

  it('keeps to the chunk bounds it is given', async () => {
    const target = rowsOf(1000);
    target.find((r) => r.key[0] === 900)!.values[2] = 'x';
    const { src, tgt } = sides(rowsOf(1000), target);

    const inside = await compareRange(src, tgt, ['id'], { lower: [800], upper: [1000] }, 0);
    const outside = await compareRange(src, tgt, ['id'], { upper: [800] }, 0);

    expect(inside).toMatchObject({ sourceRows: 200, targetRows: 200, different: 1 });
    expect(outside).toMatchObject({ sourceRows: 800, different: 0, differences: [] });
  });

  it('counts a range missing on one side without reading it, listing only the first rows', async () => {
    const { s, src, tgt } = sides(rowsOf(5000), rowsOf(5000).filter((r) => r.key[0]! <= 2000));

    const out = await compareRange(src, tgt, ['id'], {}, 0, { ...DEFAULT_CONTENT_OPTIONS, maxStored: 10 });

    expect(out).toMatchObject({ missing: 3000, extra: 0, different: 0, truncated: true });
    expect(out.differences).toHaveLength(10);
    expect(out.differences.every((d) => d.kind === 'missing')).toBe(true);
    // the listed rows, plus at most the leaves around the first boundary; never the 3000
    expect(s.rowsRead).toBeLessThan(200);
  });

  it('stops when asked to between steps', async () => {
    const target = rowsOf(3000);
    target[10]!.values[1] = 'x';
    const { src, tgt } = sides(rowsOf(3000), target);
    let calls = 0;
    await expect(compareRange(src, tgt, ['id'], {}, 0, { ...DEFAULT_CONTENT_OPTIONS, shouldStop: async () => ++calls > 1 })).rejects.toBeInstanceOf(CompareStoppedError);
  });

  it('reports the rows digested, for throttling', async () => {
    const { src, tgt } = sides(rowsOf(100), rowsOf(100));
    const seen: number[] = [];
    await compareRange(src, tgt, ['id'], {}, 0, { ...DEFAULT_CONTENT_OPTIONS, onRows: async (n) => void seen.push(n) });
    expect(seen).toEqual([200]);
  });
});

describe('compareRange (keyless: whole-row multisets)', () => {
  const keyless = (rows: (string | null)[][]): FakeRow[] => rows.map((values) => ({ key: [], values }));

  it('finds one of two duplicate rows missing and an extra row, by hash buckets', async () => {
    const base = Array.from({ length: 3000 }, (_, i) => [String(i % 1000), i % 3 ? 'a' : null, '']);
    const source = keyless([...base, ['dup', 'x', 'y'], ['dup', 'x', 'y']]);
    const target = keyless([...base, ['dup', 'x', 'y'], ['new', null, null]]);
    const { s, t, src, tgt } = sides(source, target);

    const out = await compareRange(src, tgt, [], {}, 1);

    expect(out).toMatchObject({ sourceRows: 3002, targetRows: 3002, missing: 1, extra: 1, different: 0 });
    expect(out.differences).toEqual(
      expect.arrayContaining([
        { tableIndex: 1, kind: 'missing', key: [], sourceValues: ['dup', 'x', 'y'] },
        { tableIndex: 1, kind: 'extra', key: [], targetValues: ['new', null, null] },
      ]),
    );
    expect(s.rowsRead + t.rowsRead).toBeLessThan(4 * DEFAULT_CONTENT_OPTIONS.leafRows);
  });

  it('tells NULL from an empty string', async () => {
    const { src, tgt } = sides(keyless([['1', null, 'z']]), keyless([['1', '', 'z']]));
    const out = await compareRange(src, tgt, [], {}, 0);
    expect(out).toMatchObject({ missing: 1, extra: 1 });
  });

  it('narrows many identical rows that differ only in multiplicity', async () => {
    const same = Array.from({ length: 200 }, () => ['same', 'row', '1']);
    const { src, tgt } = sides(keyless(same), keyless(same.slice(1)));
    const out = await compareRange(src, tgt, [], {}, 0);
    expect(out).toMatchObject({ sourceRows: 200, targetRows: 199, missing: 1, extra: 0 });
  });
});

describe('diffRows', () => {
  it('names only the columns that differ', () => {
    const row = (key: string, values: (string | null)[], hash: string) => ({ key: [key], rawKey: [key], hash, values });
    const out = diffRows([row('1', ['1', 'a', 'b'], 'h1')], [row('1', ['1', 'a', 'c'], 'h2')], spec, ['id'], 0);
    expect(out).toEqual([{ tableIndex: 0, kind: 'different', key: ['1'], rawKey: ['1'], columns: ['amount'], sourceValues: ['b'], targetValues: ['c'] }]);
  });

  it('keeps a wide row’s stored values small enough for one store item', () => {
    const wide: DigestSpec = { columns: Array.from({ length: 1000 }, (_, i) => col(`c${i}`)) };
    const values = Array.from({ length: 1000 }, () => 'v'.repeat(400));
    const [d] = diffRows([{ key: [], rawKey: [], hash: 'a', values }], [], wide, [], 0);
    expect(JSON.stringify(d!.sourceValues).length).toBeLessThan(40_000);
    expect(d!.sourceValues).toHaveLength(1000);
  });

  it('truncates long values it keeps', () => {
    const long = 'x'.repeat(2000);
    const out = diffRows([{ key: ['1'], rawKey: [1], hash: 'a', values: ['1', long, ''] }], [{ key: ['1'], rawKey: [1], hash: 'b', values: ['1', 'short', ''] }], spec, ['id'], 0);
    expect(out[0]!.sourceValues![0]).toHaveLength(512);
  });
});

describe('recheck (incremental sync running)', () => {
  it('drops rows that caught up and keeps the rows that still differ', async () => {
    // Prepare: the target lags: two rows not applied yet, one really changed
    const source = rowsOf(2000);
    const target = rowsOf(2000).filter((r) => r.key[0] !== 10 && r.key[0] !== 20);
    target.find((r) => r.key[0] === 30)!.values[1] = 'tampered';
    const { t, src, tgt } = sides(source, target);
    const first = await compareRange(src, tgt, ['id'], {}, 0);
    expect(first).toMatchObject({ missing: 2, different: 1 });

    // Act: the lag passes, the two rows arrive
    t.set(T, [...target, ...source.filter((r) => r.key[0] === 10 || r.key[0] === 20)]);
    const again = await recheck(src, tgt, ['id'], {}, 0, first);

    // Assess
    expect(again).toMatchObject({ missing: 0, extra: 0, different: 1 });
    expect(again.differences.map((d) => d.key)).toEqual([['30']]);
  });

  it('keeps only keyless differences found both times', async () => {
    const rows = (extra: (string | null)[][]) => [...Array.from({ length: 500 }, (_, i) => ({ key: [], values: [String(i), 'v', 'w'] })), ...extra.map((values) => ({ key: [], values }))];
    const { t, src, tgt } = sides(rows([]), rows([['late', 'x', 'y'], ['bad', 'x', 'y']]));
    const first = await compareRange(src, tgt, [], {}, 0);
    expect(first.extra).toBe(2);
    t.set(T, rows([['bad', 'x', 'y']]));
    const again = await recheck(src, tgt, [], {}, 0, first);
    expect(again).toMatchObject({ extra: 1, missing: 0 });
    expect(again.differences).toEqual([{ tableIndex: 0, kind: 'extra', key: [], targetValues: ['bad', 'x', 'y'] }]);
  });
});
