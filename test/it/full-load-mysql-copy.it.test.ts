/**
 * The MySQL whole-chunk copy (copyChunkTo) in both of its forms: LOAD DATA LOCAL INFILE, and
 * multi-row INSERTs when the target refuses local infile. Each must copy the all-types table
 * exactly, decline (write nothing) when the range already holds rows, and never let LOAD DATA's
 * warnings (which stand in for the errors an INSERT would raise) pass silently.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointConfig, SourceEngine, TableRef, TargetEngine } from '../../lib/engines/engine.js';
import { openEngine } from '../../lib/engines/index.js';
import { requireBinaries, startMariaDb, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn, mysqlDump } from '../helpers/dumps.js';
import { ROOT } from '../helpers/local.js';

const run = requireBinaries('mysql');
let server: DbServer;
let cfg: EndpointConfig;
const engines: (SourceEngine & TargetEngine)[] = [];
const open = () => {
  const e = openEngine(cfg);
  engines.push(e);
  return e;
};

async function sql(text: string): Promise<void> {
  const c = await mysqlConn(server);
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** Every chunk of `from` through copyChunkTo; how many were declined. */
async function copyWhole(e: SourceEngine & TargetEngine, from: TableRef, to: TableRef, rowsPerChunk: number): Promise<{ rows: number; declined: number; chunks: number }> {
  const [schema] = await e.readSchema([from]);
  const chunks = await e.planChunks(schema!, rowsPerChunk);
  let rows = 0;
  let declined = 0;
  for (const c of chunks) {
    const r = await e.copyChunkTo!(c, e, to, {});
    if (r) rows += r.rows;
    else declined++;
  }
  return { rows, declined, chunks: chunks.length };
}

beforeAll(async () => {
  if (!run) return;
  server = await startMariaDb({ serverId: 51 });
  cfg = { kind: 'mysql', host: server.host, port: server.port, user: server.user, password: server.password };
  const fixture = readFileSync(path.join(ROOT, 'test/fixtures/sql/mysql/all-types.sql'), 'utf8');
  const c = await mysqlConn(server);
  await c.query('CREATE DATABASE src');
  await c.query('USE src');
  for (const stmt of fixture.split(/;\s*\n/)) if (stmt.replace(/--.*$/gm, '').trim()) await c.query(stmt);
  // A one-column key whose values are empty, the word NULL, or the LOAD DATA format's own characters (quote, tab, newline, backslash, NUL).
  await c.query('CREATE TABLE src.one (v varchar(10) NOT NULL PRIMARY KEY)');
  await c.query("INSERT INTO src.one VALUES (''), ('x'), ('\\\\N'), ('a\\tb'), ('n\\nl'), ('\\\\'), ('NULL'), ('\"'), ('\"\"'), ('a\"\\tb'), ('x\"\\ny\"'), ('\"\\t\"'), ('\\0\"')");
  await c.end();
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(engines.map((e) => e.close()));
  await server?.stop();
});

describe.runIf(run)('MySQL whole-chunk copy', () => {
  for (const mode of ['LOAD DATA LOCAL INFILE', 'INSERT (local_infile off on the target)']) {
    it(`${mode}: copies the all-types table and awkward keys exactly, declines a replayed chunk`, async () => {
      // Prepare
      const n = mode.startsWith('LOAD') ? 'load' : 'insert';
      await sql(`SET GLOBAL local_infile = ${n === 'load' ? 1 : 0}`);
      const e = open();
      const [types, one] = await e.readSchema([{ db: 'src', table: 'all_types' }, { db: 'src', table: 'one' }]);
      const dst = (t: string): TableRef => ({ db: `dst_${n}`, table: t });
      await e.applySchema([{ schema: types!, target: dst('all_types') }, { schema: one!, target: dst('one') }], { deferSecondaryIndexes: true });

      try {
        // Act
        const first = await copyWhole(e, { db: 'src', table: 'all_types' }, dst('all_types'), 2);
        const keys = await copyWhole(e, { db: 'src', table: 'one' }, dst('one'), 2);
        const again = await copyWhole(e, { db: 'src', table: 'all_types' }, dst('all_types'), 100);

        // Assess
        expect(first).toMatchObject({ rows: 6, declined: 0 });
        expect(keys).toMatchObject({ rows: 13, declined: 0 });
        expect(again).toMatchObject({ rows: 0, declined: 1, chunks: 1 });
        expect(await mysqlDump(server, dst('all_types').db, 'all_types')).toEqual(await mysqlDump(server, 'src', 'all_types'));
        expect(await mysqlDump(server, dst('one').db, 'one')).toEqual(await mysqlDump(server, 'src', 'one'));
      } finally {
        await sql('SET GLOBAL local_infile = 1');
      }
    });
  }

  it('LOAD DATA warnings (a value the target cannot hold) decline the chunk, and the page path then fails loudly', async () => {
    // Prepare: the target column is narrower than the source's, so a value would be truncated
    for (const s of ['CREATE DATABASE narrow', 'CREATE TABLE narrow.t (id int PRIMARY KEY, s varchar(3))', 'CREATE DATABASE narrow_dst', 'CREATE TABLE narrow_dst.t (id int PRIMARY KEY, s varchar(2))', "INSERT INTO narrow.t VALUES (1, 'ab'), (2, 'abc')"]) await sql(s);
    const e = open();
    const [schema] = await e.readSchema([{ db: 'narrow', table: 't' }]);
    const [chunk] = await e.planChunks(schema!, 100);

    // Act
    const whole = await e.copyChunkTo!(chunk!, e, { db: 'narrow_dst', table: 't' }, {});
    const pages = [];
    for await (const p of e.readChunk(chunk!, { pageRows: 10 })) pages.push(p);
    const paged = await e.writeRows({ db: 'narrow_dst', table: 't' }, pages[0]!, { keyColumns: ['id'] }).catch((err: unknown) => err);

    // Assess
    expect(whole).toBeUndefined();
    expect(await e.countRows({ db: 'narrow_dst', table: 't' })).toBe(0);
    expect(String((paged as Error).message)).toMatch(/too long|1406/i);
  });
});
