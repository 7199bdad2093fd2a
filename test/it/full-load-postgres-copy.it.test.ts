/**
 * The PostgreSQL whole-chunk copy (copyChunkTo) in both COPY formats: binary when every column is
 * of a built-in type (same type on both sides, same server major version), text otherwise. Each
 * must copy the all-types table exactly and decline (write nothing) a chunk whose range already
 * holds rows.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointConfig, SourceEngine, TableRef, TargetEngine } from '../../lib/engines/engine.js';
import { openEngine } from '../../lib/engines/index.js';
import { PgClient } from '../../lib/engines/postgres/connection.js';
import { binarySafe } from '../../lib/engines/postgres/copy.js';
import { requireBinaries, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { pgClient } from '../helpers/dumps.js';
import { ROOT } from '../helpers/local.js';

const run = requireBinaries('postgresql');
let server: DbServer;
let cfg: EndpointConfig;
let engine: SourceEngine & TargetEngine;

/** Every row as JSON text, sorted (read by the driver alone; the table has a column named `t`, hence the alias). */
async function dump(db: string, table: string): Promise<string[]> {
  const c = await pgClient(server, db);
  try {
    return (await c.query(`SELECT row_to_json(x)::text AS j FROM public.${table} x`)).rows.map((r) => r.j as string).sort();
  } finally {
    await c.end();
  }
}

/** Every chunk through copyChunkTo; how many were declined. */
async function copyWhole(from: TableRef, to: TableRef, rowsPerChunk: number): Promise<{ rows: number; declined: number; chunks: number }> {
  const [schema] = await engine.readSchema([from]);
  const chunks = await engine.planChunks(schema!, rowsPerChunk);
  let rows = 0;
  let declined = 0;
  for (const c of chunks) {
    const r = await engine.copyChunkTo!(c, engine, to, {});
    if (r) rows += r.rows;
    else declined++;
  }
  return { rows, declined, chunks: chunks.length };
}

beforeAll(async () => {
  if (!run) return;
  server = await startPostgres();
  cfg = { kind: 'postgresql', host: server.host, port: server.port, user: server.user, password: server.password };
  const c = await pgClient(server);
  for (const db of ['src', 'dst']) await c.query(`CREATE DATABASE ${db}`);
  await c.end();
  const s = await pgClient(server, 'src');
  await s.query(readFileSync(path.join(ROOT, 'test/fixtures/sql/postgres/all-types.sql'), 'utf8'));
  // The same table and values without the enum columns: only built-in types.
  await s.query('CREATE TABLE public.builtin_types AS SELECT * FROM public.all_types; ALTER TABLE public.builtin_types DROP COLUMN m, DROP COLUMN ma, ADD PRIMARY KEY (id)');
  await s.end();
  engine = openEngine(cfg);
}, 120_000);

afterAll(async () => {
  await engine?.close();
  await server?.stop();
});

describe.runIf(run)('PostgreSQL whole-chunk copy', () => {
  for (const [table, format] of [['builtin_types', 'binary'], ['all_types', 'text']] as const) {
    it(`copies ${table} exactly in COPY ${format} format and declines a replayed chunk`, async () => {
      // Prepare
      const from = { db: 'src', schema: 'public', table };
      const to = { db: 'dst', schema: 'public', table };
      const [schema] = await engine.readSchema([from]);
      await engine.applySchema([{ schema: schema!, target: to }], { deferSecondaryIndexes: true });
      const columns = schema!.columns.filter((c) => !/GENERATED ALWAYS AS \(/i.test(c.default ?? '') && c.name !== 'gen').map((c) => c.name);
      const src = new PgClient(cfg);
      const binary = await binarySafe(src, from, src, to, { source: columns, target: columns }).finally(() => src.close());

      // Act
      const first = await copyWhole(from, to, 2);
      const again = await copyWhole(from, to, 100);

      // Assess
      expect(binary).toBe(format === 'binary');
      expect(first.declined).toBe(0);
      expect(first.rows).toBe(await engine.countRows(from));
      expect(first.rows).toBeGreaterThanOrEqual(5);
      expect(again).toMatchObject({ rows: 0, declined: 1 });
      expect(await dump('dst', table)).toEqual(await dump('src', table));
    });
  }

  describe('with the primary key deferred', () => {
    const from = { db: 'src', schema: 'public', table: 'builtin_types' };
    const pkOf = async (db: string, table: string) => {
      const c = await pgClient(server, db);
      try {
        return (await c.query("SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'", [`public.${table}`])).rows;
      } finally {
        await c.end();
      }
    };
    const copyAll = async (to: TableRef, opts: Parameters<NonNullable<typeof engine.copyChunkTo>>[3]) => {
      const [schema] = await engine.readSchema([from]);
      let rows = 0;
      for (const c of await engine.planChunks(schema!, 2)) rows += (await engine.copyChunkTo!(c, engine, to, opts))?.rows ?? NaN;
      return rows;
    };

    it('loads into a heap, replays clear their range (no duplicates), and createSecondaryIndexes adds the key', async () => {
      // Prepare
      const to = { db: 'dst', schema: 'public', table: 'deferred_pk' };
      const [schema] = await engine.readSchema([from]);
      await engine.applySchema([{ schema: schema!, target: to }], { deferSecondaryIndexes: true, deferPrimaryKey: true });
      const before = await pkOf('dst', 'deferred_pk');

      // Act: first attempts, then every chunk replayed (as after a crash between commit and "done")
      const first = await copyAll(to, { firstAttempt: true });
      const replayed = await copyAll(to, { firstAttempt: false });
      await engine.applySchema([{ schema: schema!, target: to }], { deferSecondaryIndexes: true, deferPrimaryKey: true }); // a re-run of the schema step keeps it deferred
      const stillNone = await pkOf('dst', 'deferred_pk');
      await engine.createSecondaryIndexes([{ schema: schema!, target: to }]);

      // Assess
      const n = await engine.countRows(from);
      expect(before).toEqual([]);
      expect(stillNone).toEqual([]);
      expect([first, replayed]).toEqual([n, n]);
      expect(await dump('dst', 'deferred_pk')).toEqual(await dump('src', 'builtin_types'));
      expect((await pkOf('dst', 'deferred_pk')).map((r) => r.def)).toEqual((await pkOf('src', 'builtin_types')).map((r) => r.def));
    });

    it('a superseded attempt writes nothing, and a later attempt waits for the one in progress, then replaces its rows', async () => {
      // Prepare
      const to = { db: 'dst', schema: 'public', table: 'deferred_race' };
      const [schema] = await engine.readSchema([from]);
      await engine.applySchema([{ schema: schema!, target: to }], { deferSecondaryIndexes: true, deferPrimaryKey: true });
      const [chunk] = await engine.planChunks(schema!, 1_000);

      // Act 1: the first attempt learns (under the chunk's lock) that a later claim superseded it
      const superseded = await engine.copyChunkTo!(chunk!, engine, to, { firstAttempt: true, stillOwned: async () => false }).catch((e: unknown) => e);
      const afterSuperseded = await engine.countRows(to);

      // Act 2: attempt 1 is copying (holding the lock) when attempt 2 starts; attempt 2 must wait, then clear and copy
      let copying!: () => void;
      const isCopying = new Promise<void>((r) => (copying = r));
      let proceed!: () => void;
      const mayProceed = new Promise<void>((r) => (proceed = r));
      let secondDone = false;
      const first = engine.copyChunkTo!(chunk!, engine, to, {
        firstAttempt: true,
        stillOwned: async () => true,
        onData: async () => {
          copying();
          await mayProceed;
        },
      });
      await isCopying;
      const second = engine.copyChunkTo!(chunk!, engine, to, { firstAttempt: false }).then((r) => ((secondDone = true), r));
      await new Promise((r) => setTimeout(r, 300));
      const secondWaited = !secondDone;
      proceed();
      const [a, b] = await Promise.all([first, second]);

      // Assess
      expect((superseded as Error).constructor.name).toBe('ChunkNotOwnedError');
      expect(afterSuperseded).toBe(0);
      expect(secondWaited).toBe(true);
      expect(a?.rows).toBe(b?.rows);
      expect(await dump('dst', 'deferred_race')).toEqual(await dump('src', 'builtin_types'));
    });
  });

  it('a source error half way through a chunk fails the copy, writes nothing, and leaves the engine usable', async () => {
    // Prepare: 20,000 rows; the filter divides by zero at id 15,000, after ~15,000 rows were relayed
    const c = await pgClient(server, 'src');
    await c.query('CREATE TABLE public.series AS SELECT g AS id, md5(g::text) AS s FROM generate_series(1, 20000) g; ALTER TABLE public.series ADD PRIMARY KEY (id)');
    await c.end();
    const from = { db: 'src', schema: 'public', table: 'series' };
    const to = { db: 'dst', schema: 'public', table: 'series' };
    const [schema] = await engine.readSchema([from]);
    await engine.applySchema([{ schema: schema!, target: to }], { deferSecondaryIndexes: true });
    const [chunk] = await engine.planChunks(schema!, 100_000);

    // Act
    const failed = await engine.copyChunkTo!(chunk!, engine, to, { where: '1 / (id - 15000) <> 7' }).catch((e: unknown) => e);
    const count = await engine.countRows(to);
    const again = await engine.copyChunkTo!(chunk!, engine, to, {});

    // Assess
    expect(String((failed as Error).message)).toMatch(/division by zero/);
    expect(count).toBe(0);
    expect(again).toMatchObject({ rows: 20_000 });
    expect(await dump('dst', 'series')).toEqual(await dump('src', 'series'));
  });
});
