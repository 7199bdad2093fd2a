/**
 * Hostile object names and row filters, end to end through the v5 API on real servers.
 *
 * Databases, schemas, tables and columns named with spaces, quotes, backticks, `;`, `--`, `%`,
 * reserved words, mixed case and non-ASCII (renamed to equally hostile target names) go through
 * schema copy, full load and incremental sync (a FULL_INCR_TRANS job) on MariaDB and PostgreSQL,
 * and every table is compared with an independent dump; then a content compare finds nothing, and
 * after one target row is changed behind the job's back it finds exactly that row, with SQL for
 * it that runs as given on both servers.
 *
 * Row filters (filter_conditions) that try to be more than a filter on the selected table —
 * statements, subqueries against other tables, comments, sleeps, file and variable access — are
 * refused when configured; one slipped into the stored job behind the API's back is refused when
 * the job runs. A legitimate filter whose string literal looks like SQL only filters. Throughout,
 * a canary database on the source and everything outside the selection on the target is checked
 * untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStore } from '../../lib/store/job-store.js';
import { apiClient } from '../helpers/client.js';
import { allDiffs, createCompareV5, waitCompare } from '../helpers/compare.js';
import { converge } from '../helpers/converge.js';
import { requireBinaries, startMariaDb, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn, mysqlDump, pgClient, pgDump } from '../helpers/dumps.js';
import { createJobBody, drain } from '../helpers/jobs.js';
import { startLocal, type LocalService } from '../helpers/local.js';

const runMy = requireBinaries('mysql');
const runPg = requireBinaries('postgresql');
let svc: LocalService;


const qi = (n: string) => '`' + n.replace(/`/g, '``') + '`';
const qp = (n: string) => '"' + n.replace(/"/g, '""') + '"';

/** Filters that must never reach a database: each is refused at configuration, naming the field. */
const REFUSED_FILTERS = [
  '1=1; DROP TABLE x',
  'id = 1; DELETE FROM canary.keep',
  'id IN (SELECT id FROM canary.keep)',
  'EXISTS (SELECT 1 FROM canary.keep)',
  'id = (SELECT max(id) FROM canary.keep)',
  'id = 1 -- the rest is a comment',
  'id = 1 /* comment */ OR 1=1',
  '/*!50000 1=1 */',
  'id = 1 # comment',
  'id = 1 UNION SELECT password FROM mysql.user',
  'SLEEP(5) = 0',
  'pg_sleep(5) IS NULL',
  "label = 'x\\'; DROP TABLE t; --'",
  '@@version = 1',
  '@x := 1',
  '$$x$$ = label',
  "label = E'\\x41'",
  "id = 1 INTO OUTFILE '/tmp/x'",
  "load_file('/etc/passwd') IS NOT NULL",
  "current_setting('is_superuser') = 'on'",
  'id = ?',
  'id::text = 1',
  'id = $1',
  "label = 'unterminated",
  '(' .repeat(100) + 'id = 1' + ')'.repeat(100),
  'id = 1 ' + 'AND id = 1 '.repeat(1000),
  "id = 1; COPY canary_keep TO PROGRAM 'touch /tmp/pwned'",
  'id = 1\u0000; DROP TABLE x',
  'CASE WHEN 1=1 THEN 1 END = 1',
  'id = 1 OR BENCHMARK(1000000, MD5(1)) = 0',
];

/** Looks like SQL, is only a comparison with a string literal; plus a hostile column name. */
const TRICKY_BUT_VALID = (quote: (s: string) => string) => `label = 'x''; DROP TABLE canary.keep; --' OR (${quote('id')} IN (1, 3, 5) AND NOT label LIKE '%--%')`;

beforeAll(async () => {
  if (!runMy && !runPg) return;
  process.env.DRS_ROWS_PER_CHUNK = '2';
  process.env.DRS_CDC_BUDGET_MS = '3000';
  process.env.DRS_CDC_MAX_ITERATIONS = '3';
  svc = await startLocal();
}, 60_000);
afterAll(async () => {
  await drain().catch(() => undefined);
  await svc?.stop();
});

async function refusesEveryHostileFilter(api: ReturnType<typeof apiClient>, jobId: string, objectInfo: (filter: string) => unknown): Promise<void> {
  const before = JSON.stringify(await jobStore().get(svc.cred.projectId, jobId));
  for (const f of REFUSED_FILTERS) {
    const res = await api.call('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: jobId }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: objectInfo(f) } } } } });
    expect(res.httpStatusCode, `${f} → ${JSON.stringify(res)}`).toBe(400);
    expect(String(res.error_msg), f).toMatch(/filter_conditions/);
  }
  expect(JSON.stringify(await jobStore().get(svc.cred.projectId, jobId)), 'a refused filter changed the job').toBe(before);
  console.log(`hostile names: ${REFUSED_FILTERS.length} hostile row filters refused at configuration`);
}

/** Put a filter into the stored job behind the API (as a bug or a tampered store would), keeping the passed precheck valid. */
async function smuggleFilter(jobId: string, set: (dbObject: Record<string, unknown>) => void): Promise<void> {
  const job = (await jobStore().get(svc.cred.projectId, jobId))!;
  const dbObject = structuredClone(job.dbObject) as unknown as Record<string, unknown>;
  set(dbObject);
  await jobStore().save({ ...job, dbObject: dbObject as never, version: job.version + 1 });
}

describe.runIf(runMy)('MariaDB → MariaDB with hostile names', () => {
  let src: DbServer;
  let dst: DbServer;
  const DB = "hostile db `x'\"; --%";
  const TARGET_DB = "Tgt ü `db` 'r' --";
  const WIDE = 'select';
  const COLS = ['id', 'from', 'col with space', 'co`l', '"quoted"', '--dash', ';semi', '%pct', 'Ünï', 'MiXeD', 'group'];
  const TABLES = ['Mixed Case Table', 'tbl;drop table x--', '100%_pct', 'ünïcödé_表', 'order'];
  const FILTERED = "ta`ble'q\"";
  const RENAMED: Record<string, string> = { order: 'renamed `order` --' };
  const VALUES = ["'; DROP TABLE x; --", '`', '\\', 'ü表😀', '%', '"', '--', '/*', null];

  beforeAll(async () => {
    [src, dst] = await Promise.all([startMariaDb({ serverId: 51 }), startMariaDb({ serverId: 52 })]);
    const c = await mysqlConn(src);
    await c.query(`CREATE DATABASE ${qi(DB)} CHARACTER SET utf8mb4; CREATE DATABASE canary; CREATE TABLE canary.keep (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO canary.keep VALUES (1,'alive'),(2,'alive');`);
    await c.query(`CREATE TABLE ${qi(DB)}.${qi(WIDE)} (${COLS.map((n, i) => `${qi(n)} ${i === 0 ? 'INT PRIMARY KEY' : i % 2 ? 'VARCHAR(40)' : 'INT'}`).join(', ')})`);
    const rows = Array.from({ length: 9 }, (_, r) => COLS.map((_, i) => (i === 0 ? r + 1 : i % 2 ? VALUES[(r + i) % VALUES.length] : r * i)));
    await c.query(`INSERT INTO ${qi(DB)}.${qi(WIDE)} VALUES ?`, [rows]);
    for (const t of TABLES) {
      await c.query(`CREATE TABLE ${qi(DB)}.${qi(t)} (${qi('id')} INT PRIMARY KEY, ${qi('名前 `x`')} VARCHAR(40), KEY ${qi('idx ; --')} (${qi('名前 `x`')}))`);
      await c.query(`INSERT INTO ${qi(DB)}.${qi(t)} VALUES ?`, [VALUES.map((v, i) => [i + 1, v])]);
    }
    await c.query(`CREATE TABLE ${qi(DB)}.${qi(FILTERED)} (id INT PRIMARY KEY, label VARCHAR(60))`);
    await c.query(`INSERT INTO ${qi(DB)}.${qi(FILTERED)} VALUES ?`, [[[1, 'a'], [2, 'b'], [3, 'has -- dashes'], [4, "x'; DROP TABLE canary.keep; --"], [5, 'e'], [6, 'f']]]);
    await c.end();
  }, 120_000);
  afterAll(async () => Promise.all([src?.stop(), dst?.stop()]));

  const expectedFiltered = async () => {
    const c = await mysqlConn(src);
    const [rows] = (await c.query(`SELECT id FROM ${qi(DB)}.${qi(FILTERED)} WHERE label = 'x''; DROP TABLE canary.keep; --' OR (id IN (1, 3, 5) AND NOT label LIKE '%--%')`)) as unknown as [{ id: number }[]];
    await c.end();
    const all = await mysqlDump(src, DB, FILTERED);
    const keep = new Set(rows.map((r) => Buffer.from(String(r.id)).toString('hex').toUpperCase()));
    return all.filter((line) => keep.has((JSON.parse(line) as string[])[0]));
  };
  const tablesOf = async (s: DbServer, db: string) => {
    const c = await mysqlConn(s);
    const [rows] = (await c.query('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [db])) as unknown as [Record<string, string>[]];
    const [dbs] = (await c.query("SELECT schema_name AS s FROM information_schema.schemata WHERE schema_name NOT IN ('mysql','information_schema','performance_schema','sys') ORDER BY 1")) as unknown as [Record<string, string>[]];
    await c.end();
    return { tables: rows.map((r) => r.t ?? r.T ?? r.TABLE_NAME), dbs: dbs.map((r) => r.s ?? r.S ?? r.SCHEMA_NAME) };
  };

  it('refuses hostile filters, copies every hostile name exactly (schema, full load, CDC, compare), and touches nothing else', async () => {
    const api = apiClient(svc.url, svc.cred);
    const canaryBefore = await mysqlDump(src, 'canary', 'keep');
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'hostile-my', source: src, target: dst, taskType: 'FULL_INCR_TRANS' }) });
    await api.until(id, (j) => j.status === 'CONFIGURATION');

    await refusesEveryHostileFilter(api, id, (f) => ({ [DB]: { name: TARGET_DB, all: true, tables: { [FILTERED]: { filtered: true, filter_conditions: [f] } } } }));

    const tables = Object.fromEntries([...TABLES, WIDE].map((t) => [t, RENAMED[t] ? { name: RENAMED[t] } : {}]));
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', {
      path: { job_id: id },
      body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { [DB]: { name: TARGET_DB, all: true, tables: { ...tables, [FILTERED]: { filtered: true, filter_conditions: [TRICKY_BUT_VALID(qi)] } } } } } } } },
    });
    const pre = await api.precheck(id);
    expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))).toBe(true);
    await api.action(id, 'start');
    const inc = await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED' || j.status.endsWith('FAILED'), 120_000);
    if (inc.status !== 'INCRE_TRANSFER_STARTED') expect.fail(`${inc.status}: ${JSON.stringify((await api.detail(id, 'log', { limit: '50' })).logs)}`);

    // Changes during CDC, on every hostile table.
    const c = await mysqlConn(src);
    await c.query(`INSERT INTO ${qi(DB)}.${qi(WIDE)} (${COLS.map(qi).join(', ')}) VALUES (?)`, [COLS.map((_, i) => (i === 0 ? 100 : i % 2 ? "cdc '; --" : 7))]);
    await c.query(`UPDATE ${qi(DB)}.${qi(WIDE)} SET ${qi('co`l')} = 'upd \`x\`', ${qi('%pct')} = 42 WHERE ${qi('id')} = 2`);
    await c.query(`DELETE FROM ${qi(DB)}.${qi(WIDE)} WHERE ${qi('id')} = 3`);
    for (const t of TABLES) {
      await c.query(`INSERT INTO ${qi(DB)}.${qi(t)} VALUES (100, 'cdc ü ; --')`);
      await c.query(`UPDATE ${qi(DB)}.${qi(t)} SET ${qi('名前 `x`')} = 'changed' WHERE id = 1`);
      await c.query(`DELETE FROM ${qi(DB)}.${qi(t)} WHERE id = 2`);
    }
    // The filtered table: one row the filter lets through, one it does not.
    await c.query(`INSERT INTO ${qi(DB)}.${qi(FILTERED)} VALUES (7, 'x''; DROP TABLE canary.keep; --'), (8, 'not selected')`);
    await c.end();

    for (const t of [WIDE, ...TABLES]) {
      const r = await converge(async () => Promise.all([mysqlDump(src, DB, t), mysqlDump(dst, TARGET_DB, RENAMED[t] ?? t).catch(() => [])]));
      expect(r.target, t).toEqual(r.source);
    }
    const filtered = await converge(async () => Promise.all([expectedFiltered(), mysqlDump(dst, TARGET_DB, FILTERED)]));
    expect(filtered.target).toEqual(filtered.source);

    // Compare: consistent; then one row changed on the target behind the job's back is found,
    // and the SQL the compare reports for it runs as is on both sides (names quoted right).
    const clean = await createCompareV5(api, id, 'contents');
    expect((await waitCompare(api, id, clean)).status).toBe('SUCCESSFUL');
    expect((await allDiffs(api, id, clean)).count).toBe(0);
    const t = await mysqlConn(dst);
    await t.query(`UPDATE ${qi(TARGET_DB)}.${qi(WIDE)} SET ${qi('co`l')} = 'tampered' WHERE ${qi('id')} = 1`);
    await t.end();
    const dirty = await createCompareV5(api, id, 'contents');
    expect((await waitCompare(api, id, dirty)).status).toBe('SUCCESSFUL');
    const diffs = await allDiffs(api, id, dirty);
    expect(diffs.count, JSON.stringify(diffs.infos)).toBe(1);
    for (const [server, sql] of [[src, diffs.infos[0].source_select_sql], [dst, diffs.infos[0].target_select_sql]] as const) {
      const q = await mysqlConn(server);
      const [rows] = (await q.query(sql as string)) as unknown as [unknown[]];
      await q.end();
      expect(rows, sql as string).toHaveLength(1);
    }

    // Nothing outside the selection exists on the target; the source canary is intact.
    const target = await tablesOf(dst, TARGET_DB);
    expect(target.tables.sort()).toEqual([...TABLES.map((t) => RENAMED[t] ?? t), WIDE, FILTERED].sort());
    expect(target.dbs.sort()).toEqual([TARGET_DB].sort());
    expect(await mysqlDump(src, 'canary', 'keep')).toEqual(canaryBefore);
    expect((await tablesOf(src, DB)).tables.sort()).toEqual([...TABLES, WIDE, FILTERED].sort());
    await api.ok('POST', '/v5/{project_id}/jobs/{job_id}/stop', { path: { job_id: id }, body: {} });
    await api.until(id, (j) => j.status.startsWith('RELEASE_RESOURCE_') && j.status !== 'RELEASE_RESOURCE_STARTED', 60_000);
  });

  it('a hostile filter smuggled into the stored job is refused when the job runs, and nothing is touched', async () => {
    const api = apiClient(svc.url, svc.cred);
    const canaryBefore = await mysqlDump(src, 'canary', 'keep');
    const sourceBefore = await mysqlDump(src, DB, FILTERED);
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'smuggled-my', source: src, target: dst, taskType: 'FULL_TRANS' }) });
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'table', object_info: { [DB]: { name: 'smuggled_target', tables: { [FILTERED]: { filtered: true, filter_conditions: ['id > 0'] } } } } } } } } });
    const pre = await api.precheck(id);
    expect(pre.result).toBe(true);
    await smuggleFilter(id, (o) => {
      ((((o.object_info as Record<string, Record<string, unknown>>)[DB].tables as Record<string, Record<string, unknown>>)[FILTERED]).filter_conditions = ['1=1; DROP TABLE canary.keep; --']);
    });
    await api.action(id, 'start');
    const end = await api.until(id, (j) => j.status.endsWith('FAILED') || j.status === 'FULL_TRANSFER_COMPLETE', 60_000);
    expect(end.status, JSON.stringify(end)).toMatch(/FAILED$/);
    expect(await mysqlDump(src, 'canary', 'keep')).toEqual(canaryBefore);
    expect(await mysqlDump(src, DB, FILTERED)).toEqual(sourceBefore);
    const leftovers = await tablesOf(dst, 'smuggled_target');
    expect(leftovers.tables.filter((t) => t !== FILTERED)).toEqual([]);
    // whatever was created holds no row the smuggled filter would have let through
    if (leftovers.tables.includes(FILTERED)) expect(await mysqlDump(dst, 'smuggled_target', FILTERED)).toEqual([]);
  });
});

describe.runIf(runPg)('PostgreSQL → PostgreSQL with hostile names', () => {
  let src: DbServer;
  let dst: DbServer;
  const DB = 'Hostile DB "x\'; --%';
  const SCHEMAS = ['public', 'Sch Ema"x;--', 'select'];
  const TABLES = ['Mixed Case Table', 'tbl;drop table x--', '100%_pct', 'ünïcödé_表', 'order'];
  const COLS = ['id', 'from', 'col with space', '"quoted"', '--dash', ';semi', '%pct', 'Ünï', 'MiXeD', 'group'];
  const FILTERED = 'ta`ble\'q"';
  const VALUES = ["'; DROP TABLE x; --", '`', '\\', 'ü表😀', '%', '"', '--', '/*', '$$', null];

  beforeAll(async () => {
    [src, dst] = await Promise.all([startPostgres(), startPostgres()]);
    for (const s of [src, dst]) {
      const c = await pgClient(s);
      await c.query(`CREATE DATABASE ${qp(DB)}`);
      await c.end();
    }
    const admin = await pgClient(src);
    await admin.query('CREATE DATABASE canary');
    await admin.end();
    const k = await pgClient(src, 'canary');
    await k.query("CREATE TABLE keep (id INT PRIMARY KEY, v TEXT); INSERT INTO keep VALUES (1,'alive'),(2,'alive');");
    await k.end();
    const c = await pgClient(src, DB);
    for (const s of SCHEMAS) {
      if (s !== 'public') await c.query(`CREATE SCHEMA ${qp(s)}`);
      for (const t of TABLES) {
        await c.query(`CREATE TABLE ${qp(s)}.${qp(t)} (${COLS.map((n, i) => `${qp(n)} ${i === 0 ? 'INT PRIMARY KEY' : i % 2 ? 'TEXT' : 'INT'}`).join(', ')})`);
        await c.query(`CREATE INDEX ${qp(`idx ; -- ${t}`.slice(0, 60))} ON ${qp(s)}.${qp(t)} (${qp('from')})`);
        for (let r = 0; r < VALUES.length; r++) {
          await c.query(`INSERT INTO ${qp(s)}.${qp(t)} VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')})`, COLS.map((_, i) => (i === 0 ? r + 1 : i % 2 ? VALUES[(r + i) % VALUES.length] : r * i)));
        }
      }
    }
    await c.query(`CREATE TABLE public.${qp(FILTERED)} (id INT PRIMARY KEY, label TEXT)`);
    await c.query(`INSERT INTO public.${qp(FILTERED)} VALUES (1, 'a'), (2, 'b'), (3, 'has -- dashes'), (4, 'x''; DROP TABLE canary.keep; --'), (5, 'e'), (6, 'f')`);
    await c.end();
  }, 120_000);
  afterAll(async () => Promise.all([src?.stop(), dst?.stop()]));

  const tablesOf = async (s: DbServer, db: string) => {
    const c = await pgClient(s, db);
    const r = await c.query("SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
    await c.end();
    return r.rows.map((x) => x.t as string);
  };

  it('refuses hostile filters, copies every hostile name exactly (schema, full load, CDC, compare), and touches nothing else', async () => {
    const api = apiClient(svc.url, svc.cred);
    const canaryBefore = await pgDump(src, 'canary', 'public', 'keep');
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'hostile-pg', engine: 'postgresql', source: src, target: dst, sourceDb: DB, targetDb: DB, taskType: 'FULL_INCR_TRANS' }) });
    await api.until(id, (j) => j.status === 'CONFIGURATION');

    const withFilter = (f: string) => ({ [DB]: { all: true, schemas: { public: { tables: { [FILTERED]: { filtered: true, filter_conditions: [f] } } } } } });
    await refusesEveryHostileFilter(api, id, withFilter);
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: withFilter(TRICKY_BUT_VALID(qp)) } } } } });
    const pre = await api.precheck(id);
    expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))).toBe(true);
    await api.action(id, 'start');
    const inc = await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED' || j.status.endsWith('FAILED'), 120_000);
    if (inc.status !== 'INCRE_TRANSFER_STARTED') expect.fail(`${inc.status}: ${JSON.stringify((await api.detail(id, 'log', { limit: '50' })).logs)}`);

    const c = await pgClient(src, DB);
    for (const s of SCHEMAS) {
      for (const t of TABLES) {
        await c.query(`INSERT INTO ${qp(s)}.${qp(t)} VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')})`, COLS.map((_, i) => (i === 0 ? 100 : i % 2 ? "cdc '; --" : 7)));
        await c.query(`UPDATE ${qp(s)}.${qp(t)} SET ${qp('"quoted"')} = 'upd $$x$$', ${qp('%pct')} = 42 WHERE ${qp('id')} = 2`);
        await c.query(`DELETE FROM ${qp(s)}.${qp(t)} WHERE ${qp('id')} = 3`);
      }
    }
    await c.query(`INSERT INTO public.${qp(FILTERED)} VALUES (7, 'x''; DROP TABLE canary.keep; --'), (8, 'not selected')`);
    await c.end();

    for (const s of SCHEMAS) {
      for (const t of TABLES) {
        const r = await converge(async () => Promise.all([pgDump(src, DB, s, t), pgDump(dst, DB, s, t).catch(() => [])]));
        expect(r.target, `${s}.${t}`).toEqual(r.source);
      }
    }
    const expectedFiltered = async () => {
      const e = await pgClient(src, DB);
      const expected = await e.query(`SELECT row_to_json(t)::text AS j FROM public.${qp(FILTERED)} t WHERE label = 'x''; DROP TABLE canary.keep; --' OR ("id" IN (1, 3, 5) AND NOT label LIKE '%--%')`);
      await e.end();
      return expected.rows.map((x) => x.j as string).sort();
    };
    const filtered = await converge(async () => Promise.all([expectedFiltered(), pgDump(dst, DB, 'public', FILTERED)]));
    expect(filtered.target).toEqual(filtered.source);

    const clean = await createCompareV5(api, id, 'contents');
    expect((await waitCompare(api, id, clean)).status).toBe('SUCCESSFUL');
    expect((await allDiffs(api, id, clean)).count).toBe(0);
    const t = await pgClient(dst, DB);
    await t.query(`UPDATE ${qp(SCHEMAS[1])}.${qp(TABLES[1])} SET ${qp('"quoted"')} = 'tampered' WHERE ${qp('id')} = 1`);
    await t.end();
    const dirty = await createCompareV5(api, id, 'contents');
    expect((await waitCompare(api, id, dirty)).status).toBe('SUCCESSFUL');
    const diffs = await allDiffs(api, id, dirty);
    expect(diffs.count, JSON.stringify(diffs.infos)).toBe(1);
    for (const [server, sql] of [[src, diffs.infos[0].source_select_sql], [dst, diffs.infos[0].target_select_sql]] as const) {
      const q = await pgClient(server, DB);
      const r = await q.query(sql as string);
      await q.end();
      expect(r.rows, sql as string).toHaveLength(1);
    }

    expect((await tablesOf(dst, DB)).sort()).toEqual((await tablesOf(src, DB)).sort());
    expect(await pgDump(src, 'canary', 'public', 'keep')).toEqual(canaryBefore);
    await api.ok('POST', '/v5/{project_id}/jobs/{job_id}/stop', { path: { job_id: id }, body: {} });
    await api.until(id, (j) => j.status.startsWith('RELEASE_RESOURCE_') && j.status !== 'RELEASE_RESOURCE_STARTED', 60_000);
  });
});
