/**
 * The first real migration, MariaDB → MariaDB, through the v5 API of the in-process runtime:
 * every common type, NULLs, a composite key, a keyless table with duplicate rows, an empty
 * table, 200,000 rows, a database rename. The target is checked by an independent byte-level
 * dump of every table, not by the code under test.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/client.js';
import { requireBinaries, startMariaDb, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn, mysqlDump } from '../helpers/dumps.js';
import { createJobBody } from '../helpers/jobs.js';
import { ROOT, startLocal, type LocalService } from '../helpers/local.js';
import { handler as startDueJobs } from '../../functions/triggers/start-due-jobs.js';

const run = requireBinaries('mysql');
let src: DbServer;
let dst: DbServer;
let svc: LocalService;
const BIG_ROWS = 200_000;

beforeAll(async () => {
  if (!run) return;
  process.env.DRS_ROWS_PER_CHUNK = '20000';
  [src, dst] = await Promise.all([startMariaDb({ serverId: 11 }), startMariaDb({ serverId: 12 })]);
  const c = await mysqlConn(src);
  await c.query(readFileSync(path.join(ROOT, 'test/fixtures/sql/mysql-shop.sql'), 'utf8'));
  // 200k rows, generated server-side in batches of 10k
  for (let i = 0; i < BIG_ROWS; i += 10_000) {
    const values = Array.from({ length: 10_000 }, (_, k) => {
      const id = i + k + 1;
      return [id, `row-${id}-${'x'.repeat(id % 40)}`, id % 1000, new Date(Date.UTC(2020, 0, 1) + id * 1000).toISOString().replace('T', ' ').replace('Z', '')];
    });
    await c.query('INSERT INTO shop.big VALUES ?', [values]);
  }
  await c.end();
  svc = await startLocal();
}, 180_000);

afterAll(async () => {
  await svc?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

describe.runIf(run)('full load MariaDB → MariaDB', () => {
  it('copies every table exactly, with the database renamed', async () => {
    const api = apiClient(svc.url, svc.cred);
    const created = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'mysql-full', source: src, target: dst }) });
    const id = created.id as string;
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { shop: { name: 'shop_copy', all: true } } } } } } });

    const net = await api.action(id, 'network');
    const tested = await api.until(id, (j) => j.status === 'CONFIGURATION' && j.network_results?.length === 2, 30_000, 'network', { query_id: net.query_id });
    expect(tested.network_results.every((r: { success: boolean }) => r.success)).toBe(true);

    const pre = await api.precheck(id);
    expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))).toBe(true);
    // the keyless table is flagged, not hidden
    expect(JSON.stringify(pre.precheck_results)).toContain('keyless');

    const t0 = Date.now();
    await api.action(id, 'start');
    const done = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 240_000);
    expect(done.status, JSON.stringify(done)).toBe('FULL_TRANSFER_COMPLETE');
    console.log(`MariaDB full load of ${BIG_ROWS + 13} rows: ${Date.now() - t0} ms`);

    for (const t of ['all_types', 'composite', 'keyless', 'empty_t', 'big']) {
      const [a, b] = await Promise.all([mysqlDump(src, 'shop', t), mysqlDump(dst, 'shop_copy', t)]);
      expect(b.length, t).toBe(a.length);
      expect(b, t).toEqual(a);
    }
    const progress = await api.detail(id, 'progress');
    expect(progress.progress_info.progress).toBe('100%');
    // secondary indexes were created after the load
    const c = await mysqlConn(dst);
    const [idx] = (await c.query("SELECT DISTINCT index_name AS i FROM information_schema.statistics WHERE table_schema='shop_copy' AND table_name='big'")) as unknown as [{ i: string }[]];
    await c.end();
    expect(idx.map((r) => r.i ?? (r as unknown as { I: string }).I).sort()).toEqual(['PRIMARY', 'kb']);
  });

  it('waits for a scheduled start_time, then the scheduled trigger starts the job', async () => {
    const api = apiClient(svc.url, svc.cred);
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'mysql-scheduled', source: src, target: dst }) });
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'table', object_info: { shop: { name: 'shop_scheduled', tables: { composite: {} } } } } } } } });
    expect((await api.precheck(id)).result).toBe(true);
    const at = Date.now() + 3_000;
    await api.action(id, 'start', { start_time: String(at) });
    expect(await api.status(id)).toBe('WAITING_FOR_START');
    // a tick before the time leaves it waiting
    expect(await startDueJobs()).toEqual({ started: [] });
    expect(await api.status(id)).toBe('WAITING_FOR_START');
    await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now() + 100)));
    expect(await startDueJobs()).toEqual({ started: [id] });
    const done = await api.until(id, (j) => j.status === 'FULL_TRANSFER_COMPLETE', 60_000);
    expect(done.status).toBe('FULL_TRANSFER_COMPLETE');
    expect(await mysqlDump(dst, 'shop_scheduled', 'composite')).toEqual(await mysqlDump(src, 'shop', 'composite'));
  });
});
