/**
 * Full-load benchmark: the same generated data (~1,000,000 rows over three tables, ~200 MB)
 * copied by this service's full load and, in the same run, by the reference tools:
 * `mysqldump | mysql` and mydumper/myloader (with -e, binlog on like the others, and its default,
 * binlog off) for MariaDB, `pg_dump | psql` for PostgreSQL. Every tool starts from settled servers
 * (dirty pages flushed and purge done / checkpointed; the PostgreSQL source vacuumed once).
 * Prints rows/s and MB/s for each and our ratio to each. Run: `npm run bench:full-load`
 * (options: --rows=N, --engines=mysql,postgresql, --node=medium). Needs mariadb-server,
 * postgresql, mydumper.
 */
import '../../lib/polyfills.js';
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localWorkflow } from '../../lib/local/step-functions.js';
import { jobStore } from '../../lib/store/job-store.js';
import { apiClient } from '../../test/helpers/client.js';
import { startMariaDb, startPostgres, type DbServer } from '../../test/helpers/db-servers.js';
import { mysqlConn, pgClient } from '../../test/helpers/dumps.js';
import { createJobBody } from '../../test/helpers/jobs.js';
import { startLocal } from '../../test/helpers/local.js';

const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d;
const ROWS = Number(arg('rows', '1000000'));
const ENGINES = arg('engines', 'mysql,postgresql').split(',');
const NODE = arg('node', 'medium');

interface Figure { tool: string; seconds: number; rows: number; mb: number }
const results: { engine: string; figures: Figure[] }[] = [];

function sh(cmd: string): number {
  const t0 = performance.now();
  execSync(cmd, { stdio: ['ignore', 'ignore', 'inherit'], shell: '/bin/bash' });
  return (performance.now() - t0) / 1000;
}

async function ours(engine: 'mysql' | 'postgresql', src: DbServer, dst: DbServer, dbIn: string, dbOut: string): Promise<number> {
  // Warm "containers": the local runtime imports a task's module on its first invocation, and
  // under tsx that means transpiling the TypeScript (~0.25 s in the timed window), which a deployed
  // bundle never does. Import the run's task modules first, as a warm Lambda would have them.
  for (const f of ['start-run', 'copy-schema', 'plan-chunks', 'load-chunks', 'finish-full-load']) await import(`../../functions/tasks/${f}.js`);
  const svc = await startLocal();
  try {
    const api = apiClient(svc.url, svc.cred);
    const body = createJobBody({ name: `bench-${engine}`, engine, source: src, target: dst, nodeType: NODE, ...(engine === 'postgresql' ? { sourceDb: dbIn, targetDb: dbOut } : {}) });
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body });
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    if (engine === 'mysql') {
      await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { [dbIn]: { name: dbOut, all: true } } } } } } });
    }
    const pre = await api.precheck(id);
    if (!pre.result) throw new Error(`precheck failed: ${JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))}`);
    const t0 = performance.now();
    await api.action(id, 'start');
    // Wait for the run's local execution to end rather than polling: polling the HTTP API every
    // 200 ms (signed requests, the detail handler) or the store every 20 ms cost this process
    // 0.3–1 CPU-s per run, competing with the load it measures, and added up to a poll of latency
    // while the tools are timed to their exit. The execution ends right after FinishFullLoad.
    const run = async () => {
      for (;;) {
        const exec = [...localWorkflow().executions.values()].find((e) => e.input.jobId === id && e.input.mode === 'run');
        if (exec) return exec;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await (await run()).result.catch(() => undefined);
    const seconds = (performance.now() - t0) / 1000;
    const status = (await jobStore().get(svc.cred.projectId, id))?.status;
    if (status !== 'FULL_TRANSFER_COMPLETE') throw new Error(`full load failed: ${JSON.stringify(await api.detail(id))}`);
    return seconds;
  } finally {
    await svc.stop();
  }
}

/**
 * Let a MariaDB server finish the background work the previous step left (undo purge, dirty pages)
 * so that every measured tool starts from the same quiet state; otherwise whoever runs first after
 * the data generation pays for it.
 */
async function settleMariaDb(s: DbServer): Promise<void> {
  const c = await mysqlConn(s);
  const status = async (name: string) => {
    const [rows] = (await c.query('SELECT VARIABLE_VALUE AS v FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = ?', [name])) as unknown as [{ v: string }[]];
    return Number(rows[0]?.v ?? 0);
  };
  try {
    const [[pct]] = (await c.query('SELECT @@GLOBAL.innodb_max_dirty_pages_pct AS v')) as unknown as [[{ v: string }]];
    await c.query('SET GLOBAL innodb_max_dirty_pages_pct = 0');
    for (let i = 0; i < 1200; i++) {
      if ((await status('INNODB_BUFFER_POOL_PAGES_DIRTY')) === 0 && (await status('INNODB_HISTORY_LIST_LENGTH')) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await c.query('SET GLOBAL innodb_max_dirty_pages_pct = ?', [Number(pct.v)]);
  } finally {
    await c.end();
  }
}

/** The same for PostgreSQL: a checkpoint (the source is also vacuumed once after generating, so no reader pays for hint bits). */
async function settlePostgres(s: DbServer): Promise<void> {
  const c = await pgClient(s);
  try {
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
}

async function mysqlBench(): Promise<void> {
  const [src, dst] = await Promise.all([startMariaDb({ serverId: 31, extraArgs: ['--innodb-buffer-pool-size=1G'] }), startMariaDb({ serverId: 32, extraArgs: ['--innodb-buffer-pool-size=1G'] })]);
  try {
    const c = await mysqlConn(src);
    const o = Math.round(ROWS * 0.6), cu = Math.round(ROWS * 0.2), e = ROWS - o - cu;
    await c.query(`CREATE DATABASE shop; USE shop;
      CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(100), email VARCHAR(120), country CHAR(2), created DATETIME(6), KEY (country));
      CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(12,2), status VARCHAR(16), note VARCHAR(200), created DATETIME(6), KEY (customer_id));
      CREATE TABLE shop.events (id BIGINT PRIMARY KEY, kind VARCHAR(32), payload TEXT, ts TIMESTAMP(6) NULL);
      INSERT INTO shop.customers SELECT seq, CONCAT('customer ', seq), CONCAT('c', seq, '@example.com'), ELT(1 + seq % 5, 'DE','FR','CN','US','BR'), '2020-01-01' + INTERVAL seq SECOND FROM seq_1_to_${cu};
      INSERT INTO shop.orders SELECT seq, 1 + seq % ${cu}, (seq % 100000) / 100, ELT(1 + seq % 4, 'new','paid','shipped','closed'), REPEAT(SHA1(seq), 3), '2021-01-01' + INTERVAL seq SECOND FROM seq_1_to_${o};
      INSERT INTO shop.events SELECT seq, ELT(1 + seq % 3, 'click','view','buy'), REPEAT(MD5(seq), 12), '2022-01-01' + INTERVAL seq SECOND FROM seq_1_to_${e};
      ANALYZE TABLE shop.customers, shop.orders, shop.events;`);
    const [[size]] = (await c.query("SELECT SUM(data_length) AS b FROM information_schema.tables WHERE table_schema = 'shop'")) as unknown as [[{ b: string }]];
    await c.end();
    const mb = Number(size.b) / 1024 / 1024;
    const auth = (s: DbServer) => `-h ${s.host} -P ${s.port} -u ${s.user}`;
    const figures: Figure[] = [];
    const settle = () => Promise.all([settleMariaDb(src), settleMariaDb(dst)]);
    await settle();
    figures.push({ tool: 'this service (full load)', seconds: await ours('mysql', src, dst, 'shop', 'shop_ours'), rows: ROWS, mb });
    sh(`mariadb --no-defaults ${auth(dst)} -e 'CREATE DATABASE shop_dump'`);
    await settle();
    figures.push({ tool: 'mysqldump | mysql', seconds: sh(`mysqldump --no-defaults ${auth(src)} --single-transaction --quick shop | mariadb --no-defaults ${auth(dst)} shop_dump`), rows: ROWS, mb });
    const threads = os.cpus().length * 2;
    // myloader writes no binlog on the target unless -e; the others (and a replication service) do.
    for (const [db, binlog] of [['shop_myloader_e', true], ['shop_myloader', false]] as const) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'mydumper-'));
      await settle();
      const tDump = sh(`mydumper ${auth(src)} -B shop -o ${dir}/out -t ${threads} --rows 100000`);
      await settleMariaDb(dst);
      const tLoad = sh(`myloader ${auth(dst)} -d ${dir}/out -B ${db} -t ${threads}${binlog ? ' -e' : ''}`);
      rmSync(dir, { recursive: true, force: true });
      figures.push({ tool: `mydumper + myloader (-t ${threads}${binlog ? ' -e' : ', no binlog'})`, seconds: tDump + tLoad, rows: ROWS, mb });
    }
    const check = await mysqlConn(dst);
    for (const db of ['shop_ours', 'shop_dump', 'shop_myloader_e', 'shop_myloader']) {
      const [[n]] = (await check.query(`SELECT (SELECT COUNT(*) FROM \`${db}\`.customers) + (SELECT COUNT(*) FROM \`${db}\`.orders) + (SELECT COUNT(*) FROM \`${db}\`.events) AS n`)) as unknown as [[{ n: string }]];
      if (Number(n.n) !== ROWS) throw new Error(`${db} has ${n.n} rows, expected ${ROWS}`);
    }
    await check.end();
    results.push({ engine: 'MariaDB 10.11', figures });
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
  }
}

async function pgBench(): Promise<void> {
  const [src, dst] = await Promise.all([startPostgres({ settings: { shared_buffers: '512MB', max_wal_size: '4GB' } }), startPostgres({ settings: { shared_buffers: '512MB', max_wal_size: '4GB' } })]);
  try {
    for (const [s, db] of [[src, 'shop'], [dst, 'shop'], [dst, 'shop_dump']] as const) {
      const c = await pgClient(s);
      await c.query(`CREATE DATABASE ${db}`);
      await c.end();
    }
    const o = Math.round(ROWS * 0.6), cu = Math.round(ROWS * 0.2), e = ROWS - o - cu;
    const c = await pgClient(src, 'shop');
    await c.query(`
      CREATE TABLE customers (id int PRIMARY KEY, name varchar(100), email varchar(120), country char(2), created timestamp(6));
      CREATE INDEX ON customers (country);
      CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(12,2), status varchar(16), note varchar(200), created timestamp(6));
      CREATE INDEX ON orders (customer_id);
      CREATE TABLE events (id bigint PRIMARY KEY, kind varchar(32), payload text, ts timestamptz);
      INSERT INTO customers SELECT g, 'customer ' || g, 'c' || g || '@example.com', (ARRAY['DE','FR','CN','US','BR'])[1 + g % 5], timestamp '2020-01-01' + g * interval '1 second' FROM generate_series(1, ${cu}) g;
      INSERT INTO orders SELECT g, 1 + g % ${cu}, (g % 100000) / 100.0, (ARRAY['new','paid','shipped','closed'])[1 + g % 4], repeat(md5(g::text), 3), timestamp '2021-01-01' + g * interval '1 second' FROM generate_series(1, ${o}) g;
      INSERT INTO events SELECT g, (ARRAY['click','view','buy'])[1 + g % 3], repeat(md5(g::text), 12), timestamptz '2022-01-01' + g * interval '1 second' FROM generate_series(1, ${e}) g;
      ANALYZE;`);
    await c.query('VACUUM (FREEZE, ANALYZE)'); // sets hint bits and the visibility map now, not in whichever copy reads first
    const size = await c.query("SELECT sum(pg_relation_size(oid)) AS b FROM pg_class WHERE relname IN ('customers','orders','events')");
    await c.end();
    const mb = Number(size.rows[0].b) / 1024 / 1024;
    const figures: Figure[] = [];
    const pgbin = execSync('pg_config --bindir', { encoding: 'utf8' }).trim();
    const settle = () => Promise.all([settlePostgres(src), settlePostgres(dst)]);
    await settle();
    figures.push({ tool: 'this service (full load)', seconds: await ours('postgresql', src, dst, 'shop', 'shop'), rows: ROWS, mb });
    await settle();
    figures.push({ tool: 'pg_dump | psql', seconds: sh(`${pgbin}/pg_dump -h ${src.host} -p ${src.port} -U postgres shop | ${pgbin}/psql -q -h ${dst.host} -p ${dst.port} -U postgres shop_dump >/dev/null`), rows: ROWS, mb });
    const check = await pgClient(dst, 'shop');
    const n = await check.query('SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM events) AS n');
    await check.end();
    if (Number(n.rows[0].n) !== ROWS) throw new Error(`target has ${n.rows[0].n} rows, expected ${ROWS}`);
    results.push({ engine: 'PostgreSQL 15', figures });
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
  }
}

process.env.LOG_LEVEL ??= 'warn';
if (ENGINES.includes('mysql')) await mysqlBench();
if (ENGINES.includes('postgresql')) await pgBench();

console.log(`\nFull load benchmark: ${ROWS.toLocaleString()} rows, node type ${NODE}, ${os.cpus().length} cores\n`);
for (const r of results) {
  const ourTime = r.figures[0].seconds;
  console.log(`${r.engine} (${r.figures[0].mb.toFixed(0)} MB of table data)`);
  console.log('  tool                                  seconds     rows/s      MB/s   ours vs tool (speed-up)');
  for (const f of r.figures) {
    const ratio = f === r.figures[0] ? '' : `${(f.seconds / ourTime).toFixed(2)}x`;
    console.log(`  ${f.tool.padEnd(36)} ${f.seconds.toFixed(2).padStart(8)} ${Math.round(f.rows / f.seconds).toLocaleString().padStart(10)} ${(f.mb / f.seconds).toFixed(1).padStart(9)}   ${ratio}`);
  }
}
