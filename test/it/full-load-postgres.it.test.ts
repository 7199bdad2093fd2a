/**
 * The first real migration, PostgreSQL → PostgreSQL: every common type (arrays, jsonb, enums,
 * intervals, time zones), NULLs, a composite key in a second schema, a keyless table with
 * duplicate rows, an empty table, 200,000 rows. Checked by an independent dump of each table.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/client.js';
import { requireBinaries, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { pgClient, pgDump } from '../helpers/dumps.js';
import { createJobBody } from '../helpers/jobs.js';
import { ROOT, startLocal, type LocalService } from '../helpers/local.js';

const run = requireBinaries('postgresql');
let src: DbServer;
let dst: DbServer;
let svc: LocalService;

beforeAll(async () => {
  if (!run) return;
  process.env.DRS_ROWS_PER_CHUNK = '20000';
  [src, dst] = await Promise.all([startPostgres(), startPostgres()]);
  for (const s of [src, dst]) {
    const c = await pgClient(s);
    await c.query('CREATE DATABASE shop');
    await c.end();
  }
  const c = await pgClient(src, 'shop');
  await c.query(readFileSync(path.join(ROOT, 'test/fixtures/sql/postgres-shop.sql'), 'utf8'));
  await c.query('ANALYZE');
  await c.end();
  svc = await startLocal();
}, 180_000);

afterAll(async () => {
  await svc?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

describe.runIf(run)('full load PostgreSQL → PostgreSQL', () => {
  it('copies every table of both schemas exactly', async () => {
    const api = apiClient(svc.url, svc.cred);
    const created = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'pg-full', engine: 'postgresql', source: src, target: dst, sourceDb: 'shop', targetDb: 'shop' }) });
    const id = created.id as string;
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    const pre = await api.precheck(id);
    expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))).toBe(true);

    const t0 = Date.now();
    await api.action(id, 'start');
    const done = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 240_000);
    expect(done.status, JSON.stringify(done)).toBe('FULL_TRANSFER_COMPLETE');
    console.log(`PostgreSQL full load of 200013 rows: ${Date.now() - t0} ms`);

    for (const [schema, t] of [['public', 'all_types'], ['sales', 'composite'], ['public', 'keyless'], ['public', 'empty_t'], ['public', 'big']]) {
      const [a, b] = await Promise.all([pgDump(src, 'shop', schema, t), pgDump(dst, 'shop', schema, t)]);
      expect(b.length, t).toBe(a.length);
      expect(b, t).toEqual(a);
    }
    // the serial sequence continues where the source's is
    const c = await pgClient(dst, 'shop');
    const next = await c.query("SELECT nextval(pg_get_serial_sequence('public.all_types', 'id'))::int AS n");
    await c.end();
    expect(next.rows[0].n).toBeGreaterThan(3);
  });
});
