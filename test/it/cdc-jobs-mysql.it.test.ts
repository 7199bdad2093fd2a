/**
 * Incremental sync of whole jobs, MariaDB → MariaDB, through the API: (a) full + incremental
 * under a concurrent write workload that runs throughout the full load; (b) the runtime killed
 * with SIGKILL during CDC and restarted; (c) the target stopped for a while during CDC;
 * (d) pause, writes while paused, resume; (e) DDL mid-stream. Each ends with an independent
 * comparison of source and target data. (c) also checks the lag alarm reaches the job's webhook.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/client.js';
import { converge } from '../helpers/converge.js';
import { requireBinaries, startMariaDb, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn, mysqlDump } from '../helpers/dumps.js';
import type { Cred } from '../helpers/huawei.js';
import { createJobBody } from '../helpers/jobs.js';
import { startLocal, type LocalService } from '../helpers/local.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

const run = requireBinaries('mysql');
let src: DbServer;
let dst: DbServer;
let svc: LocalService;

beforeAll(async () => {
  if (!run) return;
  process.env.DRS_ROWS_PER_CHUNK = '10000';
  process.env.DRS_CDC_BUDGET_MS = '5000';
  process.env.DRS_CDC_MAX_ITERATIONS = '3';
  [src, dst] = await Promise.all([startMariaDb({ serverId: 41 }), startMariaDb({ serverId: 42 })]);
  svc = await startLocal();
}, 120_000);
afterAll(async () => {
  await svc?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

async function seed(db: string, rows: number): Promise<void> {
  const c = await mysqlConn(src);
  await c.query(`CREATE DATABASE \`${db}\`; CREATE TABLE \`${db}\`.acct (id INT PRIMARY KEY, owner VARCHAR(40), balance DECIMAL(12,2), note TEXT, updated DATETIME(6));`);
  for (let i = 0; i < rows; i += 5000) {
    await c.query(`INSERT INTO \`${db}\`.acct VALUES ?`, [Array.from({ length: Math.min(5000, rows - i) }, (_, k) => [i + k + 1, `owner-${i + k}`, ((i + k) % 1000) / 10, 'n'.repeat((i + k) % 50), '2024-01-01 00:00:00.000000'])]);
  }
  await c.end();
}

/** Multi-statement transactions: inserts, updates (some changing the key), deletes. */
function writer(db: string, firstNewId: number) {
  let stop = false;
  let n = 0;
  const done = (async () => {
    const c = await mysqlConn(src, db);
    let next = firstNewId;
    while (!stop) {
      await c.beginTransaction();
      await c.query('INSERT INTO acct VALUES (?, ?, ?, ?, NOW(6)), (?, ?, ?, ?, NOW(6))', [next, 'new', 1, 'ins', next + 1, 'new', 2, 'ins']);
      await c.query('UPDATE acct SET balance = balance + 1, updated = NOW(6) WHERE id = ?', [1 + (n % 500)]);
      await c.query('UPDATE acct SET id = id + 10000000 WHERE id = ?', [next + 1]);
      await c.query('DELETE FROM acct WHERE id = ?', [600 + (n % 400)]);
      await c.commit();
      next += 2;
      n++;
    }
    await c.end();
  })();
  return { stop: async () => ((stop = true), await done, n) };
}

async function fullIncrJob(api: ReturnType<typeof apiClient>, db: string, name: string, targetDb = `${db}_copy`): Promise<string> {
  const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name, source: src, target: dst, taskType: 'FULL_INCR_TRANS' }) });
  await api.until(id, (j) => j.status === 'CONFIGURATION');
  await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { [db]: { name: targetDb, all: true } } } } } } });
  const pre = await api.precheck(id);
  expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))).toBe(true);
  return id;
}

const dumps = (db: string, targetDb = `${db}_copy`) => async (): Promise<[string[], string[]]> => Promise.all([mysqlDump(src, db, 'acct'), mysqlDump(dst, targetDb, 'acct').catch(() => [])]);

describe.runIf(run)('incremental sync MariaDB → MariaDB', () => {
  it('(a) converges under a write workload running through the full load', async () => {
    const api = apiClient(svc.url, svc.cred);
    await seed('cdc_a', 60_000);
    const id = await fullIncrJob(api, 'cdc_a', 'cdc-a');
    const w = writer('cdc_a', 1_000_000);
    await api.action(id, 'start');
    await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED' || j.status.endsWith('FAILED'), 300_000);
    if (process.env.DEBUG_CDC) console.log(JSON.stringify((await api.detail(id, 'log', { limit: '50' })).logs, null, 1));
    await new Promise((r) => setTimeout(r, 2_000));
    const txs = await w.stop();
    const state = await api.detail(id);
    expect(state.status, JSON.stringify(state.error_msg)).toBe('INCRE_TRANSFER_STARTED');
    const r = await converge(dumps('cdc_a'));
    expect(r.target).toEqual(r.source);
    console.log(`(a) ${txs} writer transactions during full load + CDC, converged`);
    const p = await api.detail(id, 'progress');
    expect(Number(p.progress_info.incr_trans_delay_millis)).toBeGreaterThanOrEqual(0);
  });

  it('(d) pause, write while paused, resume: converges', async () => {
    const api = apiClient(svc.url, svc.cred);
    await seed('cdc_d', 1000);
    const id = await fullIncrJob(api, 'cdc_d', 'cdc-d');
    await api.action(id, 'start');
    await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED', 60_000);
    await api.action(id, 'stop');
    expect(await api.status(id)).toBe('PAUSING');
    const c = await mysqlConn(src, 'cdc_d');
    await c.query("INSERT INTO acct VALUES (5001, 'paused', 1, 'while paused', NOW(6)); UPDATE acct SET owner = 'changed' WHERE id < 10; DELETE FROM acct WHERE id BETWEEN 100 AND 120");
    await c.end();
    await new Promise((r) => setTimeout(r, 1500));
    const [s, t] = await dumps('cdc_d')();
    expect(t).not.toEqual(s); // paused: nothing applied
    await api.action(id, 'restart');
    const r = await converge(dumps('cdc_d'));
    expect(r.target).toEqual(r.source);
    expect(await api.status(id)).toBe('INCRE_TRANSFER_STARTED');
  });

  it('(e) replicates DDL mid-stream: a new column and rows using it', async () => {
    const api = apiClient(svc.url, svc.cred);
    await seed('cdc_e', 500);
    const id = await fullIncrJob(api, 'cdc_e', 'cdc-e');
    await api.action(id, 'start');
    await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED', 60_000);
    const c = await mysqlConn(src, 'cdc_e');
    await c.query("ALTER TABLE acct ADD COLUMN tier VARCHAR(10) DEFAULT 'basic'; INSERT INTO acct VALUES (9001, 'tiered', 5, 'x', NOW(6), 'gold'); UPDATE acct SET tier = 'silver' WHERE id < 50");
    await c.end();
    const r = await converge(dumps('cdc_e'));
    expect(r.target).toEqual(r.source);
    expect(r.target.length).toBe(501);
  });

  it('skips DDL when the policy says so, and lists every skipped statement as abnormal data', async () => {
    const api = apiClient(svc.url, svc.cred);
    await seed('cdc_f', 200);
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'cdc-f', source: src, target: dst, taskType: 'FULL_INCR_TRANS' }) });
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { cdc_f: { name: 'cdc_f_copy', all: true } } } } } } });
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'policy', params: { policy_config: { ddl_trans: false } } } } });
    expect((await api.precheck(id)).result).toBe(true);
    await api.action(id, 'start');
    await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED', 60_000);
    const c = await mysqlConn(src, 'cdc_f');
    await c.query("CREATE INDEX ix_owner ON acct (owner); INSERT INTO acct VALUES (301, 'after ddl', 1, 'x', NOW(6))");
    await c.end();
    const r = await converge(dumps('cdc_f'));
    expect(r.target).toEqual(r.source);
    const dirty = await api.ok('GET', '/v5/{project_id}/jobs/{job_id}/dirty-data', { path: { job_id: id } });
    expect(dirty.count).toBe(1);
    expect(dirty.dirty_data_list[0]).toMatchObject({ db_name: 'cdc_f', table_name: 'acct' });
    expect(dirty.dirty_data_list[0].content).toContain('CREATE INDEX');
    const t = await mysqlConn(dst);
    const [idx] = (await t.query("SELECT COUNT(*) AS n FROM information_schema.statistics WHERE table_schema='cdc_f_copy' AND index_name='ix_owner'")) as unknown as [{ n: number }[]];
    await t.end();
    expect(Number(idx[0].n)).toBe(0);
  });

  it('(c) survives the target going away: retries or fails clearly, then resumes with nothing lost', async () => {
    const api = apiClient(svc.url, svc.cred);
    await seed('cdc_c', 500);
    const id = await fullIncrJob(api, 'cdc_c', 'cdc-c');
    // A lag alarm over 1 s, delivered to a real webhook.
    const alarms: { event: string; lag_millis?: number; job_id: string }[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => (alarms.push(JSON.parse(body)), res.writeHead(204).end()));
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alarm`;
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'alarm_notify', params: { alarm_notify: { alarm_to_user: true, delay_time: 1, webhook_url: hookUrl } } } } });
    await api.action(id, 'start');
    await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED', 60_000);
    await dst.halt();
    const c = await mysqlConn(src, 'cdc_c');
    await c.query("INSERT INTO acct VALUES (7001, 'during outage', 1, 'x', NOW(6)); DELETE FROM acct WHERE id = 3");
    await c.end();
    await new Promise((r) => setTimeout(r, 4_000));
    await dst.resume();
    // Either the retries bridged the outage, or the job failed with the reason and is restarted.
    const status = await api.status(id);
    if (status === 'INCRE_TRANSFER_FAILED') {
      const d = await api.detail(id);
      expect(d.error_msg).toBeTruthy();
      await api.action(id, 'restart');
    }
    const r = await converge(dumps('cdc_c'), 120_000);
    expect(r.target).toEqual(r.source);
    // The change written during the 4 s outage was applied more than 1 s after its commit; the
    // checkpoint that records that lag (and sends the alarm) follows the target commit.
    const lagAlarm = () => alarms.some((a) => a.event === 'replication_lag' && a.job_id === id && (a.lag_millis ?? 0) > 1000);
    for (let i = 0; i < 100 && !lagAlarm(); i++) await new Promise((r) => setTimeout(r, 100));
    hook.close();
    expect(lagAlarm(), JSON.stringify(alarms)).toBe(true);
  });
});

describe.runIf(run)('incremental sync across a crash of the runtime', () => {
  const cred: Cred = { accessKey: 'CDCCRASHKEY00001', secretKey: 'cdc-crash-secret-01', projectId: 'dddddddddddddddddddddddddddddddd' };
  const env = { DRS_AK: cred.accessKey, DRS_SK: cred.secretKey, DRS_PROJECT_ID: cred.projectId, DRS_CDC_BUDGET_MS: '5000' };
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'drs-cdc-crash-'));
  let rt: RuntimeProcess | undefined;
  afterAll(async () => {
    await rt?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('(b) SIGKILL during CDC, restart: the job resumes from its checkpoint and converges', async () => {
    await seed('cdc_b', 2000);
    rt = await startRuntime({ dataDir, env });
    let api = apiClient(rt.url, cred);
    const id = await fullIncrJob(api, 'cdc_b', 'cdc-b');
    await api.action(id, 'start');
    await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED', 60_000);
    const w = writer('cdc_b', 2_000_000);
    await new Promise((r) => setTimeout(r, 1_500));
    await rt.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_000));
    await w.stop();
    rt = await startRuntime({ dataDir, env, port: rt.port });
    api = apiClient(rt.url, cred);
    const r = await converge(dumps('cdc_b'), 90_000);
    expect(r.target).toEqual(r.source);
    expect(await api.status(id)).toBe('INCRE_TRANSFER_STARTED');
  });
});
