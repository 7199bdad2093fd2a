/**
 * The engine contract suite: one set of behaviours every engine must show against real servers
 * (no mocks). An engine's *.it.test.ts supplies an EngineHarness (how to start its servers, run
 * SQL as the superuser, dump a table independently of the engine, make each precheck item fail
 * for real) and calls engineContract(harness).
 *
 * Servers start once per file (beforeAll) and stop in afterAll; each test works in databases of
 * its own so tests stay independent without restarting anything.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CdcPosition, CheckResult, Chunk, ColumnMap, CopyChunkOptions, EndpointConfig, EngineKind, PrecheckScope, SourceEngine, TableRef, TableSchema, TargetEngine } from '../../lib/engines/engine.js';
import { FatalEngineError, RetryableError } from '../../lib/engines/engine.js';
import { classifyError, openEngine } from '../../lib/engines/index.js';
import { InvalidParameterError } from '../../lib/errors.js';
import { freePort, requireBinaries, type DbServer } from '../helpers/db-servers.js';

export type Engine = SourceEngine & TargetEngine;

/** Servers a harness started, by role name ("main" is CDC-ready and used by most tests). */
export interface HarnessContext {
  servers: Record<string, DbServer>;
  /** Superuser endpoint of the main server. */
  main: EndpointConfig;
  /** Superuser endpoint of any started server. */
  endpoint(server: string, overrides?: Partial<EndpointConfig>): EndpointConfig;
  /** Files to clean up after the run (certificates). */
  tmpDirs: string[];
}

export interface PrecheckCase {
  item: string;
  expect: 'failed' | 'alarm';
  /** One line: how this case makes the item fail, for real. */
  how: string;
  role: 'source' | 'target';
  setup(ctx: HarnessContext, h: EngineHarness): Promise<{ config: EndpointConfig; scope: PrecheckScope; sourceTables?: TableSchema[] }>;
}

export interface ConnectionCase {
  name: string;
  /** The DRS.KE* code expected, or 'success'. */
  code: string;
  setup(ctx: HarnessContext, h: EngineHarness): Promise<EndpointConfig>;
}

export interface EngineHarness {
  kind: EngineKind;
  label: string;
  /** Start every server the suite needs (main + the misconfigured ones the fail cases use). */
  start(): Promise<HarnessContext>;
  /** Run SQL (several statements allowed) as the superuser, in `db` when given. */
  exec(cfg: EndpointConfig, sql: string, db?: string): Promise<void>;
  /** Rows as arrays. */
  query(cfg: EndpointConfig, sql: string, db?: string): Promise<unknown[][]>;
  /** Quote an identifier / a table in the engine's dialect. */
  q(name: string): string;
  qtable(ref: TableRef): string;
  /** A table reference (PostgreSQL adds the schema, default `public`). */
  ref(db: string, table: string, schema?: string): TableRef;
  /** Create the database (and the schema) a table lives in. */
  createContainer(cfg: EndpointConfig, ref: TableRef): Promise<void>;
  /** Create `ref (id <int pk>, v int, s varchar(40))` with ids 1..n. */
  fillSeries(cfg: EndpointConfig, ref: TableRef, n: number): Promise<void>;
  /** Every row in key order, each value in a canonical text form, read by the driver alone (not the engine). */
  dump(cfg: EndpointConfig, ref: TableRef, orderBy: string[]): Promise<unknown[][]>;
  /** The table's full definition as the server reports it, with its own name replaced by `<T>` (and its schema by `<S>`). */
  definition(cfg: EndpointConfig, ref: TableRef): Promise<string>;
  /** The all-types fixture: file under test/fixtures/sql/<engine>/, table it creates, and its key. */
  allTypes: { file: string; table: string; key: string[] };
  /** Names that must survive everywhere: a database (and schema), a table, columns, an index. */
  hostile: { db: string; schema?: string; table: string; columns: string[]; index: string };
  /** Compare two positions: negative when a is before b. */
  comparePositions(a: CdcPosition, b: CdcPosition): number;
  connectionCases: ConnectionCase[];
  precheckCases: PrecheckCase[];
  /** Precheck items that cannot be made to fail on the servers available here, and why (their evaluators have unit tests). */
  cannotFailForReal: Record<string, string>;
  /** The engine's precheck catalogue. */
  catalogue: readonly { item: string; role: 'source' | 'target'; incremental?: boolean }[];
}

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/sql');

export function fixture(kind: EngineKind, file: string): string {
  return readFileSync(path.join(FIXTURES, kind === 'mysql' ? 'mysql' : 'postgres', file), 'utf8');
}

/** A CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated CA. */
export function makeCerts(owner?: string): { dir: string; ca: string; otherCa: string; cert: string; key: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drs-certs-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=DRS Test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1,DNS:localhost\\n" > ext.cnf'], { cwd: dir });
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '30', '-extfile', 'ext.cnf']);
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-days', '30', '-subj', '/CN=Unrelated CA']);
  if (owner) execFileSync('chown', ['-R', owner, dir]);
  execFileSync('chmod', ['600', path.join(dir, 'server.key')]);
  execFileSync('chmod', ['755', dir]);
  return {
    dir,
    ca: readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    otherCa: readFileSync(path.join(dir, 'other.crt'), 'utf8'),
    cert: path.join(dir, 'server.crt'),
    key: path.join(dir, 'server.key'),
  };
}

async function drain(engine: SourceEngine, chunk: Chunk, opts: { pageRows: number; columns?: ColumnMap; where?: string }) {
  const pages = [];
  for await (const p of engine.readChunk(chunk, opts)) pages.push(p);
  return pages;
}

/** Copy a table chunk by chunk, page by page, the way the full load does. */
async function copyTable(source: Engine, target: Engine, schema: TableSchema, to: TableRef, rowsPerChunk: number, pageRows: number): Promise<{ chunks: Chunk[]; rows: number }> {
  const chunks = await source.planChunks(schema, rowsPerChunk);
  let rows = 0;
  for (const c of chunks) for await (const p of source.readChunk(c, { pageRows })) rows += await target.writeRows(to, p, { keyColumns: c.keyColumns });
  return { chunks, rows };
}

/** Copy a table chunk by chunk with the engine's whole-chunk copy (copyChunkTo); undefined results are counted, not redone. */
async function copyTableWhole(source: Engine, target: Engine, schema: TableSchema, to: TableRef, rowsPerChunk: number, opts: CopyChunkOptions = {}): Promise<{ chunks: Chunk[]; rows: number; declined: number }> {
  const chunks = await source.planChunks(schema, rowsPerChunk);
  let rows = 0;
  let declined = 0;
  for (const c of chunks) {
    const r = await source.copyChunkTo!(c, target, to, opts);
    if (r) rows += r.rows;
    else declined++;
  }
  return { chunks, rows, declined };
}

function item(results: CheckResult[], name: string): CheckResult | undefined {
  return results.find((r) => r.item === name);
}

export function engineContract(h: EngineHarness): void {
  describe.runIf(requireBinaries(h.kind))(`${h.label} engine contract`, () => {
    let ctx: HarnessContext;
    const opened: Engine[] = [];
    const open = (cfg: EndpointConfig): Engine => {
      const e = openEngine(cfg);
      opened.push(e);
      return e;
    };
    let engine: Engine;

    beforeAll(async () => {
      ctx = await h.start();
      for (const [name, s] of Object.entries(ctx.servers)) console.log(`${h.label} harness start (${name}): ${s.startMs} ms`);
      engine = open(ctx.main);
    });

    afterAll(async () => {
      await Promise.allSettled(opened.map((e) => e.close()));
      if (ctx) await Promise.allSettled(Object.values(ctx.servers).map((s) => s.stop()));
      for (const d of ctx?.tmpDirs ?? []) execFileSync('rm', ['-rf', d]);
    });

    describe('connections', () => {
      it('testConnection connects, authenticates, queries and reports the server version', async () => {
        // Act
        const r = await engine.testConnection();

        // Assess
        expect(r).toMatchObject({ success: true });
        expect(r.version).toMatch(/^\d+\.\d+/);
        expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
      });

      it('testConnection reports DRS.KE0003 when nothing listens on the port', async () => {
        const r = await open({ ...ctx.main, port: await freePort() }).testConnection();
        expect(r).toMatchObject({ success: false, code: 'DRS.KE0003' });
        expect(r.message).toMatch(/port/);
      });

      it('testConnection reports DRS.KE0018 when the host name does not resolve', async () => {
        const r = await open({ ...ctx.main, host: 'no-such-host.invalid' }).testConnection();
        expect(r).toMatchObject({ success: false, code: 'DRS.KE0018' });
        expect(r.message).toContain('no-such-host.invalid');
      });

      it('testConnection reports DRS.KE0001 "timed out" when the server accepts but never answers', async () => {
        // Prepare: a TCP listener that accepts connections and says nothing
        const sockets: Socket[] = [];
        const silent: Server = createServer((s) => sockets.push(s));
        await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
        const port = (silent.address() as { port: number }).port;
        try {
          // Act
          const r = await open({ ...ctx.main, port, connectTimeoutMs: 700 }).testConnection();

          // Assess
          expect(r).toMatchObject({ success: false, code: 'DRS.KE0001' });
          expect(r.message).toContain('timed out');
        } finally {
          for (const s of sockets) s.destroy();
          await new Promise((r) => silent.close(r));
        }
      });

      for (const c of h.connectionCases) {
        it(c.code === 'success' ? `testConnection succeeds when ${c.name}` : `testConnection reports ${c.code} when ${c.name}`, async () => {
          const cfg = await c.setup(ctx, h);
          const r = await open(cfg).testConnection();
          if (c.code === 'success') {
            expect(r, JSON.stringify(r)).toMatchObject({ success: true });
            return;
          }
          expect(r, JSON.stringify(r)).toMatchObject({ success: false, code: c.code });
          expect(r.message!.length).toBeGreaterThan(20);
          if (cfg.password) expect(r.message).not.toContain(cfg.password);
        });
      }

      it('serverInfo reports kind, version, charset and the replication variables', async () => {
        const info = await engine.serverInfo();
        expect(info.kind).toBe(h.kind);
        expect(info.versionNumber).toBeGreaterThan(0);
        expect(info.charset).not.toBe('');
        expect(Object.keys(info.variables).length).toBeGreaterThan(5);
      });
    });

    describe('prechecks', () => {
      it('every catalogue item has a real failing case here, or a stated reason why none can exist', () => {
        const covered = new Set([...h.precheckCases.map((c) => c.item), ...Object.keys(h.cannotFailForReal), 'srcDbConnection', 'dstDbConnection']);
        expect(h.catalogue.map((c) => c.item).filter((i) => !covered.has(i))).toEqual([]);
      });

      it('a well-configured source and target pass every item', async () => {
        // Prepare
        const src = h.ref('pc_ok_src', 'ok_t');
        await h.createContainer(ctx.main, src);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(src)} (id int PRIMARY KEY, v varchar(10))`, src.db);
        const dst = h.ref('pc_ok_dst', 'ok_t');
        await h.createContainer(ctx.main, dst);
        const schemas = await engine.readSchema([src]);

        // Act
        const source = await engine.precheckSource({ role: 'source', taskType: 'FULL_INCR_TRANS', tables: [src], databases: [src.db] });
        const target = await engine.precheckTarget({ role: 'target', taskType: 'FULL_INCR_TRANS', tables: [dst], databases: [dst.db] }, schemas);

        // Assess
        expect(source.filter((r) => r.result !== 'passed')).toEqual([]);
        expect(target.filter((r) => r.result !== 'passed')).toEqual([]);
        const expected = h.catalogue.map((c) => c.item);
        expect([...source, ...target].map((r) => r.item).sort()).toEqual([...expected].sort());
        for (const r of [...source, ...target]) expect(r.group).toMatch(/^[a-z_]+$/);
      });

      it('a source that cannot be reached fails srcDbConnection (and only that is reported)', async () => {
        const r = await open({ ...ctx.main, port: await freePort() }).precheckSource({ role: 'source', taskType: 'FULL_TRANS', tables: [], databases: [] });
        expect(r).toHaveLength(1);
        expect(r[0]).toMatchObject({ item: 'srcDbConnection', result: 'failed' });
      });

      it('a target that cannot be reached fails dstDbConnection', async () => {
        const r = await open({ ...ctx.main, port: await freePort() }).precheckTarget({ role: 'target', taskType: 'FULL_TRANS', tables: [], databases: [] }, []);
        expect(r[0]).toMatchObject({ item: 'dstDbConnection', result: 'failed' });
      });

      it('a full-load-only task skips the incremental-only items', async () => {
        const r = await engine.precheckSource({ role: 'source', taskType: 'FULL_TRANS', tables: [], databases: [] });
        const incrementalOnly = new Set(h.catalogue.filter((c) => c.incremental).map((c) => c.item));
        expect(r.filter((x) => incrementalOnly.has(x.item))).toEqual([]);
      });

      for (const c of h.precheckCases) {
        it(`${c.item} reports ${c.expect} for real: ${c.how}`, async () => {
          // Prepare
          const { config, scope, sourceTables } = await c.setup(ctx, h);

          // Act
          const e = open(config);
          const results = c.role === 'source' ? await e.precheckSource(scope) : await e.precheckTarget(scope, sourceTables ?? []);

          // Assess
          const r = item(results, c.item);
          expect(r, JSON.stringify(results)).toBeDefined();
          expect(r!.result, JSON.stringify(r)).toBe(c.expect);
          expect(r!.failed_reason).toBeTruthy();
          expect(r!.advice).toBeTruthy();
        });
      }
    });

    describe('schema', () => {
      it('reads the all-types table and recreates it exactly under a renamed database and table', async () => {
        // Prepare
        const src = h.ref('sc_types_src', h.allTypes.table);
        await h.createContainer(ctx.main, src);
        await h.exec(ctx.main, fixture(h.kind, h.allTypes.file), src.db);
        const dst = h.ref('sc_types_dst', 'copied_types', h.kind === 'postgresql' ? 'renamed_schema' : undefined);

        // Act
        const [schema] = await engine.readSchema([src]);
        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: false });

        // Assess
        expect(schema!.primaryKey).toEqual(h.allTypes.key);
        expect(schema!.columns.length).toBeGreaterThan(20);
        expect(await h.definition(ctx.main, dst)).toBe(await h.definition(ctx.main, src));
      });

      it('applySchema is idempotent: a second run leaves an identical table alone', async () => {
        const src = h.ref('sc_types_src2', h.allTypes.table);
        await h.createContainer(ctx.main, src);
        await h.exec(ctx.main, fixture(h.kind, h.allTypes.file), src.db);
        const dst = h.ref('sc_types_dst2', h.allTypes.table);
        const [schema] = await engine.readSchema([src]);
        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: false });
        const before = await h.definition(ctx.main, dst);

        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: false });

        expect(await h.definition(ctx.main, dst)).toBe(before);
      });

      it('applySchema refuses to adopt an existing target table with a different structure', async () => {
        const src = h.ref('sc_diff_src', 't');
        await h.createContainer(ctx.main, src);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(src)} (id int PRIMARY KEY, v varchar(10))`, src.db);
        const dst = h.ref('sc_diff_dst', 't');
        await h.createContainer(ctx.main, dst);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(dst)} (id int PRIMARY KEY, other int)`, dst.db);
        const [schema] = await engine.readSchema([src]);

        await expect(engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: false })).rejects.toBeInstanceOf(FatalEngineError);
      });

      it('deferSecondaryIndexes creates the key and unique indexes first and the rest in createSecondaryIndexes', async () => {
        // Prepare
        const src = h.ref('sc_defer_src', 't');
        await h.createContainer(ctx.main, src);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(src)} (id int PRIMARY KEY, u varchar(20) NOT NULL, v int)`, src.db);
        await h.exec(ctx.main, `CREATE UNIQUE INDEX ${h.q('t_u_uniq')} ON ${h.qtable(src)} (u)`, src.db);
        await h.exec(ctx.main, `CREATE INDEX ${h.q('t_v_idx')} ON ${h.qtable(src)} (v)`, src.db);
        const dst = h.ref('sc_defer_dst', 't');
        const [schema] = await engine.readSchema([src]);

        // Act
        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: true });
        const [early] = await engine.readSchema([dst]);
        await engine.createSecondaryIndexes([{ schema: schema!, target: dst }]);
        await engine.createSecondaryIndexes([{ schema: schema!, target: dst }]);
        const [late] = await engine.readSchema([dst]);

        // Assess
        expect(early!.indexes.filter((i) => !i.unique)).toEqual([]);
        expect(early!.indexes.filter((i) => i.unique).length).toBe(2);
        expect(late!.indexes.map((i) => i.name).sort()).toEqual(schema!.indexes.map((i) => i.name).sort());
        expect(await h.definition(ctx.main, dst)).toBe(await h.definition(ctx.main, src));
      });

      it('foreign keys follow their tables to the mapped names and are created after every table exists', async () => {
        // Prepare: the child comes first in the list, so its key can only be added once the parent exists
        const parent = h.ref('sc_fk_src', 'parent');
        const child = h.ref('sc_fk_src', 'child');
        await h.createContainer(ctx.main, parent);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(parent)} (id int PRIMARY KEY)`, parent.db);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(child)} (id int PRIMARY KEY, p int, CONSTRAINT ${h.q('child_fk')} FOREIGN KEY (p) REFERENCES ${h.qtable(parent)} (id))`, parent.db);
        const [c, p] = await engine.readSchema([child, parent]);
        const p2 = h.ref('sc_fk_dst', 'parent_copy');
        const c2 = h.ref('sc_fk_dst', 'child_copy');
        const plan = [{ schema: c!, target: c2 }, { schema: p!, target: p2 }];

        // Act
        await engine.applySchema(plan, { deferSecondaryIndexes: true });
        await h.exec(ctx.main, `INSERT INTO ${h.qtable(c2)} (id, p) VALUES (1, 999)`, c2.db);
        await h.exec(ctx.main, `DELETE FROM ${h.qtable(c2)}`, c2.db);
        await engine.createSecondaryIndexes(plan);
        await engine.createSecondaryIndexes(plan);

        // Assess: the key now points at the copied parent
        await expect(h.exec(ctx.main, `INSERT INTO ${h.qtable(c2)} (id, p) VALUES (1, 999)`, c2.db)).rejects.toThrow();
        await h.exec(ctx.main, `INSERT INTO ${h.qtable(p2)} (id) VALUES (5); INSERT INTO ${h.qtable(c2)} (id, p) VALUES (2, 5)`, c2.db);
        expect(await engine.countRows(c2)).toBe(1);
      });

      it('listObjects lists user databases and tables and no system schemas', async () => {
        const ref = h.ref('lo_db', 'listed');
        await h.createContainer(ctx.main, ref);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(ref)} (id int PRIMARY KEY)`, ref.db);

        const objs = await engine.listObjects();

        const db = objs.databases.find((d) => d.name === 'lo_db');
        const tables = db?.tables ?? db?.schemas?.find((s) => s.name === ref.schema)?.tables;
        expect(tables).toContain('listed');
        const names = JSON.stringify(objs);
        for (const sys of ['information_schema', 'performance_schema', '"mysql"', 'pg_catalog', 'pg_toast']) expect(names).not.toContain(sys);
      });
    });

    describe('chunks and rows', () => {
      it('plans a 50,000-row integer-key table into many contiguous chunks that cover every row exactly once', async () => {
        // Prepare
        const ref = h.ref('ch_series', 'series');
        await h.createContainer(ctx.main, ref);
        await h.fillSeries(ctx.main, ref, 50_000);
        const [schema] = await engine.readSchema([ref]);

        // Act
        const chunks = await engine.planChunks(schema!, 4_000);
        const again = await engine.planChunks(schema!, 4_000);
        const seen: number[] = [];
        for (const c of chunks) {
          for (const p of await drain(engine, c, { pageRows: 1_500 })) {
            for (const row of p.rows) {
              const id = Number(row[p.columns.indexOf('id')]);
              if (c.lower) expect(id).toBeGreaterThan(Number(c.lower[0]));
              if (c.upper) expect(id).toBeLessThanOrEqual(Number(c.upper[0]));
              seen.push(id);
            }
          }
        }

        // Assess
        expect(chunks.length).toBeGreaterThanOrEqual(12);
        expect(again).toEqual(chunks);
        expect(chunks[0]!.lower).toBeUndefined();
        expect(chunks.at(-1)!.upper).toBeUndefined();
        for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.lower).toEqual(chunks[i - 1]!.upper);
        expect(new Set(chunks.map((c) => c.id)).size).toBe(chunks.length);
        expect(JSON.parse(JSON.stringify(chunks))).toEqual(chunks);
        expect(seen.length).toBe(50_000);
        expect(new Set(seen).size).toBe(50_000);
      });

      it('copies the all-types table with every value equal, and writing the pages twice changes nothing', async () => {
        // Prepare
        const src = h.ref('rw_types_src', h.allTypes.table);
        await h.createContainer(ctx.main, src);
        await h.exec(ctx.main, fixture(h.kind, h.allTypes.file), src.db);
        const dst = h.ref('rw_types_dst', 'copy');
        const [schema] = await engine.readSchema([src]);
        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: true });

        // Act
        const first = await copyTable(engine, engine, schema!, dst, 2, 1);
        const once = await h.dump(ctx.main, dst, h.allTypes.key);
        const second = await copyTable(engine, engine, schema!, dst, 2, 3);

        // Assess
        const expected = await h.dump(ctx.main, src, h.allTypes.key);
        expect(expected.length).toBeGreaterThanOrEqual(4);
        expect(first.rows).toBe(expected.length);
        expect(once).toEqual(expected);
        expect(second.rows).toBe(expected.length);
        expect(await h.dump(ctx.main, dst, h.allTypes.key)).toEqual(expected);
        expect(await engine.countRows(dst)).toBe(expected.length);
      });

      it('an upsert restores a row changed on the target', async () => {
        const src = h.ref('rw_up_src', 't');
        await h.createContainer(ctx.main, src);
        await h.fillSeries(ctx.main, src, 50);
        const dst = h.ref('rw_up_dst', 't');
        const [schema] = await engine.readSchema([src]);
        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: false });
        await copyTable(engine, engine, schema!, dst, 20, 7);
        await h.exec(ctx.main, `UPDATE ${h.qtable(dst)} SET s = 'changed', v = NULL WHERE id = 10`, dst.db);

        await copyTable(engine, engine, schema!, dst, 20, 7);

        expect(await h.dump(ctx.main, dst, ['id'])).toEqual(await h.dump(ctx.main, src, ['id']));
      });

      it('chunks a composite key by walking it, and the copy is exact', async () => {
        const src = h.ref('ch_comp_src', 'comp');
        await h.createContainer(ctx.main, src);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(src)} (a int NOT NULL, b varchar(20) NOT NULL, v int, PRIMARY KEY (a, b))`, src.db);
        const values = Array.from({ length: 1_200 }, (_, i) => `(${i % 37}, 'k${String(i).padStart(5, '0')}', ${i})`).join(', ');
        await h.exec(ctx.main, `INSERT INTO ${h.qtable(src)} (a, b, v) VALUES ${values}`, src.db);
        const dst = h.ref('ch_comp_dst', 'comp');
        const [schema] = await engine.readSchema([src]);
        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: true });

        const { chunks, rows } = await copyTable(engine, engine, schema!, dst, 250, 100);

        expect(chunks.length).toBe(5);
        expect(chunks.every((c) => c.keyColumns.join() === 'a,b')).toBe(true);
        expect(rows).toBe(1_200);
        expect(await h.dump(ctx.main, dst, ['a', 'b'])).toEqual(await h.dump(ctx.main, src, ['a', 'b']));
      });

      it('chunks a varchar key by walking it, and the copy is exact', async () => {
        const src = h.ref('ch_str_src', 'str');
        await h.createContainer(ctx.main, src);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(src)} (code varchar(30) PRIMARY KEY, v int)`, src.db);
        const values = Array.from({ length: 900 }, (_, i) => `('${['x', 'Y', 'z', 'é', '😀'][i % 5]}-${(i * 7919) % 900}', ${i})`).join(', ');
        await h.exec(ctx.main, `INSERT INTO ${h.qtable(src)} (code, v) VALUES ${values}`, src.db);
        const dst = h.ref('ch_str_dst', 'str');
        const [schema] = await engine.readSchema([src]);
        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: true });

        const { chunks, rows } = await copyTable(engine, engine, schema!, dst, 200, 64);

        expect(chunks.length).toBe(5);
        expect(rows).toBe(900);
        expect(await h.dump(ctx.main, dst, ['code'])).toEqual(await h.dump(ctx.main, src, ['code']));
      });

      it('plans a table without a usable key as one unbounded chunk and copies it in pages', async () => {
        const src = h.ref('ch_nokey_src', 'heap');
        await h.createContainer(ctx.main, src);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(src)} (a int, b varchar(10))`, src.db);
        const values = Array.from({ length: 1_000 }, (_, i) => `(${i % 10}, 'dup')`).join(', ');
        await h.exec(ctx.main, `INSERT INTO ${h.qtable(src)} (a, b) VALUES ${values}`, src.db);
        const dst = h.ref('ch_nokey_dst', 'heap');
        const [schema] = await engine.readSchema([src]);
        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: true });

        const chunks = await engine.planChunks(schema!, 100);
        const pages = await drain(engine, chunks[0]!, { pageRows: 300 });
        for (const p of pages) await engine.writeRows(dst, p, { keyColumns: [] });

        expect(chunks).toHaveLength(1);
        expect(chunks[0]).toMatchObject({ keyColumns: [] });
        expect(chunks[0]!.lower).toBeUndefined();
        expect(chunks[0]!.upper).toBeUndefined();
        expect(pages.map((p) => p.rows.length)).toEqual([300, 300, 300, 100]);
        expect(await h.dump(ctx.main, dst, ['a', 'b'])).toEqual(await h.dump(ctx.main, src, ['a', 'b']));
        await engine.truncate(dst);
        expect(await engine.countRows(dst)).toBe(0);
      });

      it('readChunk honours column drops and renames and a row filter over the source names', async () => {
        const src = h.ref('rw_filter', 't');
        await h.createContainer(ctx.main, src);
        await h.fillSeries(ctx.main, src, 100);
        const [schema] = await engine.readSchema([src]);
        const [chunk] = await engine.planChunks(schema!, 1_000);

        const pages = await drain(engine, chunk!, { pageRows: 7, columns: { rename: { s: 'it\'s "s"' }, drop: ['id', 'v'] }, where: "id <= 20 AND s LIKE 's-1%' AND s <> 'it''s ? -- not a comment'" });

        const rows = pages.flatMap((p) => p.rows);
        expect(pages.every((p) => p.columns.join() === 'it\'s "s"')).toBe(true);
        expect(rows).toEqual([['s-1'], ['s-10'], ['s-11'], ['s-12'], ['s-13'], ['s-14'], ['s-15'], ['s-16'], ['s-17'], ['s-18'], ['s-19']]);
        expect(await engine.countRows(src, 'id BETWEEN 10 AND 19 OR id IN (1, 2)')).toBe(12);
      });

      it('a hostile row filter is rejected before anything runs and touches nothing', async () => {
        // Prepare
        const src = h.ref('rw_hostile', 't');
        await h.createContainer(ctx.main, src);
        await h.fillSeries(ctx.main, src, 30);
        const canary = h.ref('rw_hostile', 'canary');
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(canary)} (id int PRIMARY KEY)`, src.db);
        await h.exec(ctx.main, `INSERT INTO ${h.qtable(canary)} (id) VALUES (1), (2), (3)`, src.db);
        const [schema] = await engine.readSchema([src]);
        const [chunk] = await engine.planChunks(schema!, 1_000);
        const hostile = [
          `1=1; DROP TABLE ${h.qtable(canary)}`,
          `id IN (SELECT id FROM ${h.qtable(canary)})`,
          '1=1 -- x',
          '/*!50000 DROP TABLE canary*/ 1=1',
          'sleep(5) = 0',
          `1=1 UNION SELECT 1`,
          `id = 1; DELETE FROM ${h.qtable(canary)}`,
          `s = 'x\\' OR 1=1 -- '`,
          '@@version = 1',
        ];

        // Act + Assess
        for (const where of hostile) {
          await expect(drain(engine, chunk!, { pageRows: 10, where }), where).rejects.toBeInstanceOf(InvalidParameterError);
          await expect(engine.countRows(src, where), where).rejects.toBeInstanceOf(InvalidParameterError);
        }
        expect((await h.query(ctx.main, `SELECT id FROM ${h.qtable(canary)} ORDER BY id`, src.db)).map((r) => Number(r[0]))).toEqual([1, 2, 3]);
        expect(await engine.countRows(src)).toBe(30);
      });

      it('carries hostile object names (space, quotes, backtick, ;, --, %, reserved word, mixed case, non-ASCII) through schema and copy', async () => {
        // Prepare
        const n = h.hostile;
        const src = h.ref(n.db, n.table, n.schema);
        await h.createContainer(ctx.main, src);
        const [k, a, b] = n.columns as [string, string, string];
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(src)} (${h.q(k)} int PRIMARY KEY, ${h.q(a)} varchar(40), ${h.q(b)} varchar(40))`, src.db);
        await h.exec(ctx.main, `CREATE INDEX ${h.q(n.index)} ON ${h.qtable(src)} (${h.q(a)})`, src.db);
        const values = Array.from({ length: 120 }, (_, i) => `(${i + 1}, 'v${i} ; -- %', 'ü''${i}')`).join(', ');
        await h.exec(ctx.main, `INSERT INTO ${h.qtable(src)} (${h.q(k)}, ${h.q(a)}, ${h.q(b)}) VALUES ${values}`, src.db);
        const dst = h.ref(`${n.db} copy`, `${n.table} copy`, n.schema ? `${n.schema} copy` : undefined);

        // Act
        const [schema] = await engine.readSchema([src]);
        await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: true });
        await engine.createSecondaryIndexes([{ schema: schema!, target: dst }]);
        const { rows } = await copyTable(engine, engine, schema!, dst, 50, 16);
        const objects = await engine.listObjects();
        const pos = await engine.countRows(src, `${h.q(k)} > 100 AND ${h.q(a)} LIKE 'v1%'`);

        // Assess
        expect(schema!.columns.map((c) => c.name)).toEqual([k, a, b]);
        expect(rows).toBe(120);
        expect(await h.dump(ctx.main, dst, [k])).toEqual(await h.dump(ctx.main, src, [k]));
        expect(await h.definition(ctx.main, dst)).toBe(await h.definition(ctx.main, src));
        expect(JSON.stringify(objects)).toContain(JSON.stringify(n.table).slice(1, -1));
        expect(pos).toBe(20);
      });

      // Every engine here has the optional fast path; an engine without it would skip this block.
      describe('whole-chunk copy (copyChunkTo)', () => {
        it('copies the all-types table exactly; a chunk already on the target is declined and nothing is written twice', async () => {
          // Prepare
          const src = h.ref('cc_types_src', h.allTypes.table);
          await h.createContainer(ctx.main, src);
          await h.exec(ctx.main, fixture(h.kind, h.allTypes.file), src.db);
          const dst = h.ref('cc_types_dst', 'copy');
          const [schema] = await engine.readSchema([src]);
          await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: true });
          let moved = 0;

          // Act
          const first = await copyTableWhole(engine, engine, schema!, dst, 2, { onData: (b) => void (moved += b) });
          const again = await copyTableWhole(engine, engine, schema!, dst, 2);
          const afterAgain = await h.dump(ctx.main, dst, h.allTypes.key);
          const upserted = await copyTable(engine, engine, schema!, dst, 2, 3);

          // Assess
          const expected = await h.dump(ctx.main, src, h.allTypes.key);
          expect(first.declined).toBe(0);
          expect(first.rows).toBe(expected.length);
          expect(moved).toBeGreaterThan(0);
          // Every chunk that holds rows is declined (an empty range has nothing to collide with).
          expect(again.declined).toBeGreaterThanOrEqual(Math.min(again.chunks.length, 2));
          expect(again.rows).toBe(0);
          expect(afterAgain).toEqual(expected);
          expect(upserted.rows).toBe(expected.length);
          expect(await h.dump(ctx.main, dst, h.allTypes.key)).toEqual(expected);
        });

        it('copies composite and varchar keys, hostile names, a row filter and a keyless table exactly', async () => {
          // Prepare
          const comp = h.ref('cc_keys_src', 'comp');
          await h.createContainer(ctx.main, comp);
          await h.exec(ctx.main, `CREATE TABLE ${h.qtable(comp)} (a int NOT NULL, b varchar(20) NOT NULL, v int, PRIMARY KEY (a, b))`, comp.db);
          await h.exec(ctx.main, `INSERT INTO ${h.qtable(comp)} (a, b, v) VALUES ${Array.from({ length: 1_200 }, (_, i) => `(${i % 37}, 'k''${String(i).padStart(5, '0')}', ${i})`).join(', ')}`, comp.db);
          const str = h.ref('cc_keys_src', 'str');
          await h.exec(ctx.main, `CREATE TABLE ${h.qtable(str)} (code varchar(30) PRIMARY KEY, v int)`, str.db);
          await h.exec(ctx.main, `INSERT INTO ${h.qtable(str)} (code, v) VALUES ${Array.from({ length: 900 }, (_, i) => `('${['x', 'Y', 'z', 'é', '😀', "q''x"][i % 6]}-${(i * 7919) % 900}', ${i})`).join(', ')}`, str.db);
          const heap = h.ref('cc_keys_src', 'heap');
          await h.exec(ctx.main, `CREATE TABLE ${h.qtable(heap)} (a int, b varchar(10))`, heap.db);
          await h.exec(ctx.main, `INSERT INTO ${h.qtable(heap)} (a, b) VALUES ${Array.from({ length: 1_000 }, (_, i) => `(${i % 10}, 'dup')`).join(', ')}`, heap.db);
          const n = h.hostile;
          const hostile = h.ref(`${n.db} cc`, n.table, n.schema);
          await h.createContainer(ctx.main, hostile);
          const [k, a, b] = n.columns as [string, string, string];
          await h.exec(ctx.main, `CREATE TABLE ${h.qtable(hostile)} (${h.q(k)} int PRIMARY KEY, ${h.q(a)} varchar(40), ${h.q(b)} varchar(40))`, hostile.db);
          await h.exec(ctx.main, `INSERT INTO ${h.qtable(hostile)} (${h.q(k)}, ${h.q(a)}, ${h.q(b)}) VALUES ${Array.from({ length: 120 }, (_, i) => `(${i + 1}, 'v${i} ; -- %', 'ü''${i}')`).join(', ')}`, hostile.db);
          const schemas = await engine.readSchema([comp, str, heap, hostile]);
          const targets = ['comp', 'str', 'heap', 'hostile'].map((t) => h.ref('cc_keys_dst', t));
          await engine.applySchema(schemas.map((schema, i) => ({ schema, target: targets[i]! })), { deferSecondaryIndexes: true });
          const filtered = h.ref('cc_keys_dst', 'filtered');
          await engine.applySchema([{ schema: schemas[0]!, target: filtered }], { deferSecondaryIndexes: true });

          // Act
          const results = [];
          for (const [i, schema] of schemas.entries()) results.push(await copyTableWhole(engine, engine, schema, targets[i]!, [250, 200, 100, 50][i]!));
          const where = "v < 600 AND b LIKE 'k''%'";
          const filteredCopy = await copyTableWhole(engine, engine, schemas[0]!, filtered, 300, { where });

          // Assess
          expect(results.map((r) => r.rows)).toEqual([1_200, 900, 1_000, 120]);
          expect(results.map((r) => r.declined)).toEqual([0, 0, 0, 0]);
          expect(results[0]!.chunks.length).toBe(5);
          expect(results[2]!.chunks.length).toBe(1);
          expect(await h.dump(ctx.main, targets[0]!, ['a', 'b'])).toEqual(await h.dump(ctx.main, comp, ['a', 'b']));
          expect(await h.dump(ctx.main, targets[1]!, ['code'])).toEqual(await h.dump(ctx.main, str, ['code']));
          expect(await h.dump(ctx.main, targets[2]!, ['a', 'b'])).toEqual(await h.dump(ctx.main, heap, ['a', 'b']));
          expect(await h.dump(ctx.main, targets[3]!, [k])).toEqual(await h.dump(ctx.main, hostile, [k]));
          expect(filteredCopy.rows).toBe(600);
          expect(await engine.countRows(filtered)).toBe(600);
          expect(await engine.countRows(comp, where)).toBe(600);
        });

        it('stops when onData throws and leaves nothing of the chunk behind', async () => {
          const src = h.ref('cc_stop_src', 't');
          await h.createContainer(ctx.main, src);
          await h.fillSeries(ctx.main, src, 20_000);
          const dst = h.ref('cc_stop_dst', 't');
          const [schema] = await engine.readSchema([src]);
          await engine.applySchema([{ schema: schema!, target: dst }], { deferSecondaryIndexes: true });
          const [chunk] = await engine.planChunks(schema!, 100_000);
          let calls = 0;

          const stopped = await engine.copyChunkTo!(chunk!, engine, dst, { onData: () => { if (++calls > 1) throw new Error('stop here'); } }).catch((e: unknown) => e);
          const count = await engine.countRows(dst);
          const redone = await engine.copyChunkTo!(chunk!, engine, dst, {});

          expect((stopped as Error).message).toBe('stop here');
          expect(count).toBe(0);
          expect(redone).toMatchObject({ rows: 20_000 });
          expect(await h.dump(ctx.main, dst, ['id'])).toEqual(await h.dump(ctx.main, src, ['id']));
        });
      });

      it('currentPosition advances after a write', async () => {
        const ref = h.ref('pos_db', 't');
        await h.createContainer(ctx.main, ref);
        await h.exec(ctx.main, `CREATE TABLE ${h.qtable(ref)} (id int PRIMARY KEY)`, ref.db);
        const before = await engine.currentPosition();

        await h.exec(ctx.main, `INSERT INTO ${h.qtable(ref)} (id) VALUES (1)`, ref.db);
        const after = await engine.currentPosition();

        expect(before.kind).toBe(h.kind);
        expect(h.comparePositions(before, after)).toBeLessThan(0);
        expect(JSON.parse(JSON.stringify(after))).toEqual(after);
      });
    });

    describe('errors', () => {
      it('a real deadlock is classified retryable, a bad statement fatal, a refused connection retryable', async () => {
        // Prepare: two sessions lock two rows in opposite order
        const ref = h.ref('err_db', 'locks');
        await h.createContainer(ctx.main, ref);
        await h.fillSeries(ctx.main, ref, 2);
        const cfg = { ...ctx.main, ...(h.kind === 'postgresql' ? { database: ref.db } : {}) };
        const a = open({ ...cfg, poolSize: 1 });
        const b = open({ ...cfg, poolSize: 1 });
        const upd = (id: number) => `UPDATE ${h.qtable(ref)} SET v = v + 1 WHERE id = ${id}`;
        const s1 = h.kind === 'mysql' ? await mysqlSession(cfg) : await pgSession(cfg);
        const s2 = h.kind === 'mysql' ? await mysqlSession(cfg) : await pgSession(cfg);
        let caught: unknown;
        try {
          await s1.run('BEGIN');
          await s2.run('BEGIN');
          await s1.run(upd(1));
          await s2.run(upd(2));
          const p1 = s1.run(upd(2)).catch((e: unknown) => (caught ??= e));
          await new Promise((r) => setTimeout(r, 200));
          await s2.run(upd(1)).catch((e: unknown) => (caught ??= e));
          await p1;
        } finally {
          await s1.close();
          await s2.close();
        }

        // Act
        const deadlock = classifyError(h.kind, caught);
        const bad = await a.countRows(h.ref('err_db', 'no_such_table')).catch((e: unknown) => e);
        const refused = await open({ ...ctx.main, port: await freePort(), password: 'sekrit-pw' }).countRows(ref).catch((e: unknown) => e);
        await b.close();

        // Assess
        expect(caught).toBeDefined();
        expect(deadlock).toBeInstanceOf(RetryableError);
        expect((deadlock as Error).cause).toBe(caught);
        expect(bad).toBeInstanceOf(FatalEngineError);
        expect(refused).toBeInstanceOf(RetryableError);
        expect((refused as Error).message).not.toContain('sekrit-pw');
      });
    });
  });
}

interface Session {
  run(sql: string): Promise<void>;
  close(): Promise<void>;
}

async function mysqlSession(cfg: EndpointConfig): Promise<Session> {
  const mysql = (await import('mysql2/promise')).default;
  const c = await mysql.createConnection({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password });
  await c.query('SET SESSION innodb_lock_wait_timeout = 20');
  return { run: async (sql) => void (await c.query(sql)), close: () => c.end().catch(() => undefined) };
}

async function pgSession(cfg: EndpointConfig): Promise<Session> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password, database: cfg.database });
  c.on('error', () => undefined);
  await c.connect();
  await c.query('SET deadlock_timeout = 100');
  return { run: async (sql) => void (await c.query(sql)), close: () => c.end().catch(() => undefined) };
}
