/**
 * Content compare benchmark: 1,000,000 identical rows (after a full load through the service),
 * compared by this service's content compare (digests computed inside both databases, chunk by
 * chunk, in parallel; agreeing rows never leave the servers) and, in the same run on the same data,
 * by the plain alternative: `SELECT ... ORDER BY pk` streamed from both servers at once and
 * compared row by row in Node (merge on the key). Prints rows/s for each and the ratio, and for
 * MariaDB the bytes both servers sent to their clients while each method ran (the servers'
 * Bytes_sent counters; PostgreSQL keeps no such counter): what would cross a real network.
 * Run: `npm run bench:compare` (options: --rows=N, --engines=mysql,postgresql, --node=high).
 * Needs mariadb-server and postgresql.
 */
import '../../lib/polyfills.js';
import os from 'node:os';
import type { Readable } from 'node:stream';
import mysql from 'mysql2';
import { to as copyTo } from 'pg-copy-streams';
import { apiClient } from '../../test/helpers/client.js';
import { createCompareV5, waitCompare } from '../../test/helpers/compare.js';
import { startMariaDb, startPostgres, type DbServer } from '../../test/helpers/db-servers.js';
import { mysqlConn, pgClient } from '../../test/helpers/dumps.js';
import { createJobBody } from '../../test/helpers/jobs.js';
import { startLocal, type LocalService } from '../../test/helpers/local.js';
import { compareStore } from '../../lib/store/compare-store.js';

const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d;
const ROWS = Number(arg('rows', '1000000'));
const ENGINES = arg('engines', 'mysql,postgresql').split(',');
const NODE = arg('node', 'high');

interface Figure { tool: string; seconds: number; sentMb?: number }
const results: { engine: string; figures: Figure[] }[] = [];

/** Bytes both MariaDB servers have sent to their clients so far (SHOW GLOBAL STATUS Bytes_sent). */
async function mariaDbBytesSent(servers: DbServer[]): Promise<number> {
  let total = 0;
  for (const s of servers) {
    const c = await mysqlConn(s);
    const [rows] = (await c.query("SHOW GLOBAL STATUS LIKE 'Bytes_sent'")) as unknown as [{ Value: string }[]];
    total += Number(rows[0]!.Value);
    await c.end();
  }
  return total;
}

/** Run `f`, and for MariaDB also count the MB the two servers sent meanwhile. */
async function metered(engine: 'mysql' | 'postgresql', servers: DbServer[], f: () => Promise<number>): Promise<{ seconds: number; sentMb?: number }> {
  if (engine !== 'mysql') return { seconds: await f() };
  const before = await mariaDbBytesSent(servers);
  const seconds = await f();
  return { seconds, sentMb: ((await mariaDbBytesSent(servers)) - before) / 1e6 };
}

/** Full load through the service (not timed), then the timed content compare. */
async function ours(engine: 'mysql' | 'postgresql', src: DbServer, dst: DbServer): Promise<{ seconds: number; sentMb?: number }> {
  // Warm "containers", as in bench/full-load: the local runtime imports a task's module on its
  // first invocation, which under tsx means transpiling TypeScript inside the timed window; a
  // deployed bundle never does.
  for (const f of ['compare-start', 'compare-work', 'compare-finish']) await import(`../../functions/tasks/${f}.js`);
  const svc: LocalService = await startLocal();
  try {
    const api = apiClient(svc.url, svc.cred);
    const body = createJobBody({ name: `bench-compare-${engine}`, engine, source: src, target: dst, nodeType: NODE, ...(engine === 'postgresql' ? { sourceDb: 'bench', targetDb: 'bench' } : {}) });
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body });
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    if (engine === 'mysql') {
      await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { bench: { name: 'bench_copy', all: true } } } } } } });
    }
    const pre = await api.precheck(id);
    if (!pre.result) throw new Error(`precheck failed: ${JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))}`);
    await api.action(id, 'start');
    const done = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 3_600_000);
    if (done.status !== 'FULL_TRANSFER_COMPLETE') throw new Error(`full load failed: ${JSON.stringify(done)}`);

    let taskId = '';
    let task: Record<string, string> = {};
    const measured = await metered(engine, [src, dst], async () => {
      const t0 = performance.now();
      taskId = await createCompareV5(api, id, 'contents');
      task = await waitCompare(api, id, taskId, 3_600_000);
      return (performance.now() - t0) / 1000;
    });
    const seconds = measured.seconds;
    if (task.status !== 'SUCCESSFUL') throw new Error(`compare ended ${task.status}: ${task.error_msg}`);
    const key = { projectId: svc.cred.projectId, jobId: id };
    const stored = (await compareStore().getTask(key, taskId))!;
    const work = await compareStore().listWork(key, taskId);
    const first = Math.min(...work.map((w) => w.doneAt ?? Infinity));
    const last = Math.max(...work.map((w) => w.doneAt ?? 0));
    console.log(`${engine}: created→started ${stored.startedAt! - stored.createdAt} ms, started→first chunk done ${first - stored.startedAt!} ms, first→last chunk ${last - first} ms (${work.length} chunks), last chunk→ended ${stored.endedAt! - last} ms, API round trip total ${Math.round(seconds * 1000)} ms`);
    const d = await api.detail(id, 'compare', { compare_type: 'content_compare', query_type: 'detail', compare_task_id: taskId });
    const t = d.compare_result.content_compare_detail_infos[0];
    if (t.source_row_num !== ROWS || t.target_row_num !== ROWS || t.difference_row_num !== 0) throw new Error(`unexpected result ${JSON.stringify(t)}`);
    return measured;
  } finally {
    await svc.stop();
  }
}

/** Merge two key-ordered row streams; returns the number of rows that differ (missing, extra or changed). */
async function mergeDiff<T>(a: AsyncIterator<T>, b: AsyncIterator<T>, key: (r: T) => bigint, same: (x: T, y: T) => boolean): Promise<{ rows: number; diffs: number }> {
  let [x, y] = await Promise.all([a.next(), b.next()]);
  let rows = 0;
  let diffs = 0;
  while (!x.done || !y.done) {
    if (y.done || (!x.done && key(x.value) < key(y.value))) {
      diffs++;
      rows++;
      x = await a.next();
    } else if (x.done || key(y.value) < key(x.value)) {
      diffs++;
      y = await b.next();
    } else {
      if (!same(x.value, y.value)) diffs++;
      rows++;
      [x, y] = await Promise.all([a.next(), b.next()]);
    }
  }
  return { rows, diffs };
}

async function mysqlDumpDiff(src: DbServer, dst: DbServer): Promise<number> {
  const open = (s: DbServer) => mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, timezone: 'Z', charset: 'utf8mb4' });
  const [a, b] = [open(src), open(dst)];
  try {
    const t0 = performance.now();
    const stream = (c: typeof a, db: string) =>
      (c.query({ sql: `SELECT id, name, amount, note, created FROM \`${db}\`.items ORDER BY id`, rowsAsArray: true }).stream({ highWaterMark: 10_000 }) as unknown as AsyncIterable<unknown[]>)[Symbol.asyncIterator]();
    const r = await mergeDiff(stream(a, 'bench'), stream(b, 'bench_copy'), (row) => BigInt(row[0] as string), (x, y) => x.every((v, i) => v === y[i]));
    if (r.rows !== ROWS || r.diffs !== 0) throw new Error(`dump-and-diff saw ${r.rows} rows, ${r.diffs} differences`);
    return (performance.now() - t0) / 1000;
  } finally {
    a.end();
    b.end();
  }
}

/** COPY (SELECT ... ORDER BY id) TO STDOUT, split into lines. */
async function* copyLines(stream: Readable): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + (chunk as Buffer).toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop()!;
    yield* lines;
  }
  if (rest) yield rest;
}

async function pgDumpDiff(src: DbServer, dst: DbServer): Promise<number> {
  const [a, b] = await Promise.all([pgClient(src, 'bench'), pgClient(dst, 'bench')]);
  try {
    const t0 = performance.now();
    const sql = 'COPY (SELECT id, name, amount, note, created FROM items ORDER BY id) TO STDOUT';
    const r = await mergeDiff(copyLines(a.query(copyTo(sql))), copyLines(b.query(copyTo(sql))), (l) => BigInt(l.slice(0, l.indexOf('\t'))), (x, y) => x === y);
    if (r.rows !== ROWS || r.diffs !== 0) throw new Error(`dump-and-diff saw ${r.rows} rows, ${r.diffs} differences`);
    return (performance.now() - t0) / 1000;
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
}

async function mysqlBench(): Promise<void> {
  const [src, dst] = await Promise.all([startMariaDb({ serverId: 41, extraArgs: ['--innodb-buffer-pool-size=1G'] }), startMariaDb({ serverId: 42, extraArgs: ['--innodb-buffer-pool-size=1G'] })]);
  try {
    const c = await mysqlConn(src);
    await c.query(`CREATE DATABASE bench; USE bench;
      CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(100), amount DECIMAL(12,2), note VARCHAR(200), created DATETIME(6));
      INSERT INTO items SELECT seq, CONCAT('item ', seq), (seq % 100000) / 100, REPEAT(SHA1(seq), 2), '2021-01-01' + INTERVAL seq SECOND FROM seq_1_to_${ROWS};
      ANALYZE TABLE items;`);
    await c.end();
    const figures: Figure[] = [{ tool: 'this service (content compare)', ...(await ours('mysql', src, dst)) }];
    figures.push({ tool: 'SELECT ... ORDER BY + diff in Node', ...(await metered('mysql', [src, dst], () => mysqlDumpDiff(src, dst))) });
    results.push({ engine: 'MariaDB 10.11', figures });
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
  }
}

async function pgBench(): Promise<void> {
  const [src, dst] = await Promise.all([startPostgres({ settings: { shared_buffers: '512MB', max_wal_size: '4GB' } }), startPostgres({ settings: { shared_buffers: '512MB', max_wal_size: '4GB' } })]);
  try {
    for (const s of [src, dst]) {
      const c = await pgClient(s);
      await c.query('CREATE DATABASE bench');
      await c.end();
    }
    const c = await pgClient(src, 'bench');
    await c.query(`CREATE TABLE items (id bigint PRIMARY KEY, name varchar(100), amount numeric(12,2), note varchar(200), created timestamp(6));
      INSERT INTO items SELECT g, 'item ' || g, (g % 100000) / 100.0, repeat(md5(g::text), 2), timestamp '2021-01-01' + g * interval '1 second' FROM generate_series(1, ${ROWS}) g;
      ANALYZE;`);
    await c.end();
    const figures: Figure[] = [{ tool: 'this service (content compare)', ...(await ours('postgresql', src, dst)) }];
    figures.push({ tool: 'COPY (SELECT ... ORDER BY) + diff in Node', seconds: await pgDumpDiff(src, dst) });
    results.push({ engine: 'PostgreSQL 15', figures });
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
  }
}

process.env.LOG_LEVEL ??= 'warn';
if (ENGINES.includes('mysql')) await mysqlBench();
if (ENGINES.includes('postgresql')) await pgBench();

console.log(`\nContent compare benchmark: ${ROWS.toLocaleString()} identical rows on each side, node type ${NODE}, ${os.cpus().length} cores\n`);
for (const r of results) {
  const ourTime = r.figures[0]!.seconds;
  console.log(r.engine);
  const metered = r.figures.some((f) => f.sentMb !== undefined);
  console.log(`  method                                     seconds   rows/s (per side)${metered ? '   MB sent by the servers' : ''}   ours vs method (speed-up)`);
  for (const f of r.figures) {
    const ratio = f === r.figures[0] ? '' : `${(f.seconds / ourTime).toFixed(2)}x`;
    const mb = metered ? (f.sentMb ?? NaN).toFixed(2).padStart(15) + '         ' : '';
    console.log(`  ${f.tool.padEnd(42)} ${f.seconds.toFixed(2).padStart(7)} ${Math.round(ROWS / f.seconds).toLocaleString().padStart(12)}          ${mb}${ratio}`);
  }
}
