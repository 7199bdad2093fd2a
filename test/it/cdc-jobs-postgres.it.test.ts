/**
 * Incremental sync of whole jobs, PostgreSQL → PostgreSQL, through the API: the replication slot
 * is created before the full load, a write workload runs through it, pause/resume, an added
 * column (logical decoding carries no DDL: the relation message does), TOASTed values, and the
 * slot is dropped when the job ends. Each ends with an independent comparison.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/client.js';
import { converge } from '../helpers/converge.js';
import { requireBinaries, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { pgClient, pgDump } from '../helpers/dumps.js';
import { createJobBody } from '../helpers/jobs.js';
import { startLocal, type LocalService } from '../helpers/local.js';

const run = requireBinaries('postgresql');
let src: DbServer;
let dst: DbServer;
let svc: LocalService;

beforeAll(async () => {
  if (!run) return;
  process.env.DRS_ROWS_PER_CHUNK = '10000';
  process.env.DRS_CDC_BUDGET_MS = '5000';
  process.env.DRS_CDC_MAX_ITERATIONS = '3';
  [src, dst] = await Promise.all([startPostgres(), startPostgres()]);
  svc = await startLocal();
}, 120_000);
afterAll(async () => {
  await svc?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

async function seed(db: string, rows: number): Promise<void> {
  for (const s of [src, dst]) {
    const c = await pgClient(s);
    await c.query(`CREATE DATABASE ${db}`);
    await c.end();
  }
  const c = await pgClient(src, db);
  await c.query(`CREATE TABLE acct (id int PRIMARY KEY, owner varchar(40), balance numeric(12,2), note text, updated timestamptz);
    INSERT INTO acct SELECT g, 'owner-' || g, (g % 1000) / 10.0, repeat('n', g % 50), '2024-01-01' FROM generate_series(1, ${rows}) g;`);
  await c.end();
}

function writer(db: string, firstNewId: number) {
  let stop = false;
  let n = 0;
  const done = (async () => {
    const c = await pgClient(src, db);
    let next = firstNewId;
    while (!stop) {
      await c.query('BEGIN');
      await c.query("INSERT INTO acct VALUES ($1, 'new', 1, 'ins', now()), ($2, 'new', 2, 'ins', now())", [next, next + 1]);
      await c.query('UPDATE acct SET balance = balance + 1, updated = now() WHERE id = $1', [1 + (n % 500)]);
      await c.query('UPDATE acct SET id = id + 10000000 WHERE id = $1', [next + 1]);
      await c.query('DELETE FROM acct WHERE id = $1', [600 + (n % 400)]);
      await c.query('COMMIT');
      next += 2;
      n++;
    }
    await c.end();
  })();
  return { stop: async () => ((stop = true), await done, n) };
}

async function fullIncrJob(api: ReturnType<typeof apiClient>, db: string, name: string): Promise<string> {
  const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name, engine: 'postgresql', source: src, target: dst, taskType: 'FULL_INCR_TRANS', sourceDb: db, targetDb: db }) });
  await api.until(id, (j) => j.status === 'CONFIGURATION');
  const pre = await api.precheck(id);
  expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))).toBe(true);
  return id;
}

const dumps = (db: string) => async (): Promise<[string[], string[]]> => Promise.all([pgDump(src, db, 'public', 'acct'), pgDump(dst, db, 'public', 'acct').catch(() => [])]);

describe.runIf(run)('incremental sync PostgreSQL → PostgreSQL', () => {
  it('(a) converges under a write workload running through the full load; ending the job drops the slot', async () => {
    const api = apiClient(svc.url, svc.cred);
    await seed('cdc_a', 60_000);
    const id = await fullIncrJob(api, 'cdc_a', 'pg-cdc-a');
    const w = writer('cdc_a', 1_000_000);
    await api.action(id, 'start');
    await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED' || j.status.endsWith('FAILED'), 300_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const txs = await w.stop();
    expect(await api.status(id)).toBe('INCRE_TRANSFER_STARTED');
    const r = await converge(dumps('cdc_a'));
    expect(r.target).toEqual(r.source);
    console.log(`(a) ${txs} writer transactions during full load + CDC, converged`);

    const c = await pgClient(src, 'cdc_a');
    expect((await c.query('SELECT count(*)::int AS n FROM pg_replication_slots')).rows[0].n).toBe(1);
    await api.ok('POST', '/v5/{project_id}/jobs/{job_id}/stop', { path: { job_id: id }, body: {} });
    await api.until(id, (j) => j.status === 'RELEASE_RESOURCE_COMPLETE', 60_000);
    expect((await c.query('SELECT count(*)::int AS n FROM pg_replication_slots')).rows[0].n).toBe(0);
    expect((await c.query('SELECT count(*)::int AS n FROM pg_publication')).rows[0].n).toBe(0);
    await c.end();
  });

  it('(d, e) pause / resume, an added column and a TOASTed value kept through updates', async () => {
    const api = apiClient(svc.url, svc.cred);
    await seed('cdc_d', 1000);
    const id = await fullIncrJob(api, 'cdc_d', 'pg-cdc-d');
    await api.action(id, 'start');
    await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED', 60_000);
    const c = await pgClient(src, 'cdc_d');
    await c.query("UPDATE acct SET note = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g) WHERE id = 7");
    await api.action(id, 'stop');
    await c.query("INSERT INTO acct VALUES (5001, 'paused', 1, 'while paused', now()); UPDATE acct SET owner = 'changed' WHERE id < 10; DELETE FROM acct WHERE id BETWEEN 100 AND 120");
    await api.action(id, 'restart');
    await c.query("ALTER TABLE acct ADD COLUMN tier varchar(10); INSERT INTO acct VALUES (9001, 'tiered', 5, 'x', now(), 'gold'); UPDATE acct SET tier = 'silver' WHERE id < 50; UPDATE acct SET balance = 0 WHERE id = 7");
    await c.end();
    const r = await converge(dumps('cdc_d'));
    const state = await api.detail(id);
    expect(state.status, String(state.error_msg)).toBe('INCRE_TRANSFER_STARTED');
    expect(r.target).toEqual(r.source);
  });
});
