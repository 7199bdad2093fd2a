/**
 * CDC benchmark: a sustained write load on the source (sysbench oltp_write_only for MariaDB,
 * pgbench for PostgreSQL) at increasing rates while a FULL_INCR_TRANS job keeps the target in
 * sync. Lag is measured independently of the service: a probe inserts a row stamped with the
 * client clock every 50 ms into a selected table, and a watcher on the target records when each
 * probe row arrives. For each rate: source transactions/s achieved, changes applied/s (from the
 * job), lag p50/p99/max; then the highest rate held with p99 lag under 1 s.
 * Run: `npm run bench:cdc` (options: --engines=mysql,postgresql --seconds=20 --rates=250,500,...).
 * Needs sysbench and pgbench (Debian packages sysbench, postgresql-contrib/postgresql-client).
 */
import '../../lib/polyfills.js';
import { execSync, spawn } from 'node:child_process';
import { apiClient } from '../../test/helpers/client.js';
import { startMariaDb, startPostgres, type DbServer } from '../../test/helpers/db-servers.js';
import { mysqlConn, pgClient } from '../../test/helpers/dumps.js';
import { createJobBody } from '../../test/helpers/jobs.js';
import { startLocal, type LocalService } from '../../test/helpers/local.js';

const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d;
const ENGINES = arg('engines', 'mysql,postgresql').split(',');
const SECONDS = Number(arg('seconds', '20'));
const RATES = arg('rates', '250,500,1000,2000,4000').split(',').map(Number);

interface Row { rate: number; sourceTps: number; appliedPerSec: number; p50: number; p99: number; max: number; probes: number }

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN);

function runLoad(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out.slice(-2000)}`))));
  });
}

interface Probe {
  insert(id: number, t: number): Promise<void>;
  arrived(after: number): Promise<{ id: number; t: number }[]>;
}

async function measure(load: () => Promise<string>, tpsOf: (out: string) => number, probe: Probe, api: ReturnType<typeof apiClient>, jobId: string, rate: number, firstId: number): Promise<Row> {
  const sent = new Map<number, number>();
  const lags: number[] = [];
  let id = firstId;
  let stop = false;
  const prober = (async () => {
    while (!stop) {
      const t = Date.now();
      await probe.insert(id, t);
      sent.set(id, t);
      id++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  let last = firstId - 1;
  const watcher = (async () => {
    while (!stop || [...sent.keys()].some((k) => k > last)) {
      for (const r of await probe.arrived(last)) {
        lags.push(Date.now() - r.t);
        last = Math.max(last, r.id);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const before = await api.ok('GET', '/v5/{project_id}/jobs/{job_id}/monitor-data', { path: { job_id: jobId } });
  const t0 = Date.now();
  const out = await load();
  stop = true;
  await prober;
  await Promise.race([watcher, new Promise((r) => setTimeout(r, 120_000))]);
  // Changes applied while the load ran and until the target caught up (the job's own counter).
  const after = await api.ok('GET', '/v5/{project_id}/jobs/{job_id}/monitor-data', { path: { job_id: jobId } });
  const appliedPerSec = Math.round((Number(after.trans_lines) - Number(before.trans_lines)) / ((Date.now() - t0) / 1000));
  return { rate, sourceTps: tpsOf(out), appliedPerSec, p50: pct(lags, 0.5), p99: pct(lags, 0.99), max: Math.max(...lags), probes: lags.length };
}

async function startJob(svc: LocalService, engine: 'mysql' | 'postgresql', src: DbServer, dst: DbServer, db: string): Promise<{ api: ReturnType<typeof apiClient>; id: string }> {
  const api = apiClient(svc.url, svc.cred);
  const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: `cdc-bench-${engine}`, engine, source: src, target: dst, taskType: 'FULL_INCR_TRANS', nodeType: 'high', ...(engine === 'postgresql' ? { sourceDb: db, targetDb: db } : {}) }) });
  await api.until(id, (j) => j.status === 'CONFIGURATION');
  if (engine === 'mysql') await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { [db]: { all: true } } } } } } });
  const pre = await api.precheck(id);
  if (!pre.result) throw new Error(`precheck failed: ${JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))}`);
  await api.action(id, 'start');
  await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED', 600_000);
  return { api, id };
}

const results: { engine: string; rows: Row[] }[] = [];

async function mysqlBench(): Promise<void> {
  const [src, dst] = await Promise.all([startMariaDb({ serverId: 51, extraArgs: ['--innodb-buffer-pool-size=512M'] }), startMariaDb({ serverId: 52, extraArgs: ['--innodb-buffer-pool-size=512M'] })]);
  const svc = await startLocal();
  try {
    const c = await mysqlConn(src);
    await c.query('CREATE DATABASE sbtest; CREATE TABLE sbtest.probe (id BIGINT PRIMARY KEY, t BIGINT NOT NULL)');
    const sb = ['--db-driver=mysql', `--mysql-host=${src.host}`, `--mysql-port=${src.port}`, '--mysql-user=root', '--mysql-db=sbtest', '--tables=4', '--table-size=50000'];
    execSync(`sysbench oltp_write_only ${sb.join(' ')} prepare`, { stdio: 'ignore' });
    const { api, id } = await startJob(svc, 'mysql', src, dst, 'sbtest');
    const d = await mysqlConn(dst, 'sbtest');
    const probe: Probe = {
      insert: async (pid, t) => void (await c.query('INSERT INTO sbtest.probe VALUES (?, ?)', [pid, t])),
      arrived: async (after) => ((await d.query('SELECT id, t FROM probe WHERE id > ? ORDER BY id', [after])) as unknown as [{ id: string; t: string }[]])[0].map((r) => ({ id: Number(r.id), t: Number(r.t) })),
    };
    const rows: Row[] = [];
    let firstId = 1;
    for (const rate of RATES) {
      const load = () => runLoad('sysbench', ['oltp_write_only', ...sb, '--threads=8', `--rate=${rate}`, `--time=${SECONDS}`, 'run']);
      const tps = (out: string) => Number(/transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1] ?? 0);
      rows.push(await measure(load, tps, probe, api, id, rate, firstId));
      firstId += 100_000;
      console.log(JSON.stringify(rows[rows.length - 1]));
    }
    await c.end();
    await d.end();
    results.push({ engine: 'MariaDB 10.11 (sysbench oltp_write_only: 4 writes per transaction)', rows });
  } finally {
    await svc.stop();
    await Promise.all([src.stop(), dst.stop()]);
  }
}

async function pgBench(): Promise<void> {
  // The source commits durably, as production sources do: logical decoding only sees flushed WAL,
  // so the harness's synchronous_commit=off would add up to wal_writer_delay (200 ms) to every change.
  const [src, dst] = await Promise.all([startPostgres({ settings: { synchronous_commit: 'on' } }), startPostgres()]);
  const svc = await startLocal();
  try {
    for (const s of [src, dst]) {
      const c = await pgClient(s);
      await c.query('CREATE DATABASE bench');
      await c.end();
    }
    const bin = execSync('pg_config --bindir', { encoding: 'utf8' }).trim();
    const conn = ['-h', src.host, '-p', String(src.port), '-U', 'postgres'];
    execSync(`${bin}/pgbench -i -s 5 -q ${conn.join(' ')} bench`, { stdio: 'ignore' });
    const c = await pgClient(src, 'bench');
    await c.query('CREATE TABLE probe (id bigint PRIMARY KEY, t bigint NOT NULL)');
    const { api, id } = await startJob(svc, 'postgresql', src, dst, 'bench');
    const d = await pgClient(dst, 'bench');
    const probe: Probe = {
      insert: async (pid, t) => void (await c.query('INSERT INTO probe VALUES ($1, $2)', [pid, t])),
      arrived: async (after) => (await d.query('SELECT id, t FROM probe WHERE id > $1 ORDER BY id', [after])).rows.map((r) => ({ id: Number(r.id), t: Number(r.t) })),
    };
    const rows: Row[] = [];
    let firstId = 1;
    for (const rate of RATES) {
      const load = () => runLoad(`${bin}/pgbench`, [...conn, '-c', '8', '-j', '2', '-R', String(rate), '-T', String(SECONDS), '-n', 'bench']);
      const tps = (out: string) => Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 0);
      rows.push(await measure(load, tps, probe, api, id, rate, firstId));
      firstId += 100_000;
      console.log(JSON.stringify(rows[rows.length - 1]));
    }
    await c.end();
    await d.end();
    results.push({ engine: 'PostgreSQL 15 (pgbench TPC-B-like: 3 updates + 1 insert per transaction)', rows });
  } finally {
    await svc.stop();
    await Promise.all([src.stop(), dst.stop()]);
  }
}

process.env.LOG_LEVEL ??= 'warn';
process.env.DRS_CDC_BUDGET_MS ??= '60000';
if (ENGINES.includes('mysql')) await mysqlBench();
if (ENGINES.includes('postgresql')) await pgBench();

console.log(`\nCDC benchmark: ${SECONDS} s per rate; lag = probe row committed on the source → visible on the target\n`);
for (const r of results) {
  console.log(r.engine);
  console.log('  target tx/s   source tx/s   changes applied/s   lag p50 ms   p99 ms   max ms   probes');
  for (const x of r.rows) console.log(`  ${String(x.rate).padStart(11)} ${x.sourceTps.toFixed(0).padStart(13)} ${String(x.appliedPerSec).padStart(19)} ${String(x.p50).padStart(12)} ${String(x.p99).padStart(8)} ${String(x.max).padStart(8)} ${String(x.probes).padStart(8)}`);
  const held = r.rows.filter((x) => x.p99 < 1000).map((x) => x.sourceTps);
  console.log(`  highest rate held with p99 lag under 1 s: ${held.length ? Math.max(...held).toFixed(0) + ' tx/s' : 'none'}\n`);
}
