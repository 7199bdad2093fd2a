/**
 * Column renames and drops through whole FULL_INCR jobs, MariaDB → MariaDB and PostgreSQL →
 * PostgreSQL, driven through the v5 API: one column renamed to a hostile name, one non-key column
 * dropped, on a table with a composite primary key. After the full load the target table has
 * exactly the mapped columns and indexes (an index over the dropped column is left out) and holds
 * the source's rows projected and renamed, read by independent SELECTs; CDC inserts, updates
 * (one of only the dropped column; PostgreSQL: one leaving a TOASTed value of the renamed column
 * unchanged), key changes and deletes converge; object and content compares find nothing, then
 * exactly the one value changed on the target behind the job's back. MariaDB: an ALTER TABLE on
 * the mapped table fails the job, naming the statement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/client.js';
import { allDiffs, compareCsvReport, compareDetail, createCompareV5, waitCompare } from '../helpers/compare.js';
import { converge } from '../helpers/converge.js';
import { requireBinaries, startMariaDb, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn, pgClient } from '../helpers/dumps.js';
import { createJobBody } from '../helpers/jobs.js';
import { startLocal, type LocalService } from '../helpers/local.js';

const runMy = requireBinaries('mysql');
const runPg = requireBinaries('postgresql');
/** Backtick, both quotes, spaces, non-ASCII. */
const HOSTILE = 'it\'s `q` "ty" ü';
let svc: LocalService;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

beforeAll(async () => {
  if (!runMy && !runPg) return;
  process.env.DRS_ROWS_PER_CHUNK = '500';
  process.env.DRS_CDC_BUDGET_MS = '5000';
  process.env.DRS_CDC_MAX_ITERATIONS = '3';
  svc = await startLocal();
}, 120_000);
afterAll(async () => {
  await svc?.stop();
});

const qm = (n: string) => '`' + n.replace(/`/g, '``') + '`';
const qp = (n: string) => '"' + n.replace(/"/g, '""') + '"';

/** Rows of a query as sorted JSON strings, read with the plain driver. */
async function myRows(s: DbServer, sql: string): Promise<string[]> {
  const c = await mysqlConn(s);
  try {
    const [rows] = (await c.query({ sql, rowsAsArray: true })) as unknown as [unknown[][]];
    return rows.map((r) => JSON.stringify(r)).sort();
  } finally {
    await c.end();
  }
}

async function pgRows(s: DbServer, db: string, sql: string): Promise<string[]> {
  const c = await pgClient(s, db);
  try {
    const r = await c.query({ text: sql, rowMode: 'array' });
    return (r.rows as unknown[][]).map((x) => JSON.stringify(x)).sort();
  } finally {
    await c.end();
  }
}

async function startJob(api: ReturnType<typeof apiClient>, name: string, src: DbServer, dst: DbServer, dbObject: Json, db?: string): Promise<string> {
  const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name, source: src, target: dst, taskType: 'FULL_INCR_TRANS', ...(db ? { sourceDb: db, targetDb: db } : {}) }) });
  await api.until(id, (j) => j.status === 'CONFIGURATION');
  await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: dbObject } } } });
  const pre = await api.precheck(id);
  expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))).toBe(true);
  await api.action(id, 'start');
  const j = await api.until(id, (x) => x.status === 'INCRE_TRANSFER_STARTED' || x.status.endsWith('FAILED'), 120_000);
  expect(j.status, JSON.stringify(j.error_msg)).toBe('INCRE_TRANSFER_STARTED');
  return id;
}

/** Object compare (no difference expected) and content compare; returns the content differences. */
async function compare(api: ReturnType<typeof apiClient>, id: string) {
  const objectTask = await createCompareV5(api, id, 'object');
  expect((await waitCompare(api, id, objectTask)).status).toBe('SUCCESSFUL');
  const od = await compareDetail(api, id, { compare_type: 'object_compare', query_type: 'detail', compare_task_id: objectTask });
  expect(od.total_count, JSON.stringify(od.compare_result)).toBe(0);
  const taskId = await createCompareV5(api, id, 'contents');
  expect((await waitCompare(api, id, taskId)).status).toBe('SUCCESSFUL');
  return { taskId, diffs: await allDiffs(api, id, taskId) };
}

/** The differing columns the v3 CSV report lists for each differing row: [table, kind, key, columns]. */
async function reportedColumns(id: string, taskId: string): Promise<string[][]> {
  const lines = await compareCsvReport(svc, id, taskId, 'contents');
  return lines.filter((r) => ['missing', 'extra', 'different'].includes(r[2]!)).map((r) => [r[1]!, r[2]!, r[3]!, r[5]!]);
}


describe.runIf(runMy)('column renames and drops, MariaDB → MariaDB', () => {
  let src: DbServer;
  let dst: DbServer;
  beforeAll(async () => {
    [src, dst] = await Promise.all([startMariaDb({ serverId: 61 }), startMariaDb({ serverId: 62 })]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([src?.stop(), dst?.stop()]);
  });

  const sourceView = () => myRows(src, 'SELECT id, line, qty, note FROM cm.orders');
  const targetView = () => myRows(dst, `SELECT id, line, ${qm(HOSTILE)}, note FROM cm_copy.orders`);

  it('full load, CDC and compare follow the mapping; DDL on the mapped table fails the job naming the statement', async () => {
    // Prepare
    const api = apiClient(svc.url, svc.cred);
    const c = await mysqlConn(src);
    await c.query(`CREATE DATABASE cm; USE cm; CREATE TABLE cm.orders (id INT NOT NULL, line INT NOT NULL, qty INT NOT NULL, secret VARCHAR(50), note VARCHAR(40),
        PRIMARY KEY (id, line), KEY by_qty (qty, id), KEY by_secret (secret), UNIQUE KEY uq_note (note, id), CHECK (qty >= 0));
      INSERT INTO cm.orders SELECT seq DIV 3, seq MOD 3, seq MOD 97, CONCAT('secret-', seq), CONCAT('note-', seq) FROM seq_3_to_3002;`);
    await c.end();
    const sel = { object_scope: 'table', object_info: { cm: { name: 'cm_copy', tables: { orders: { name: 'orders', columns: { qty: { name: HOSTILE, filtered: true }, secret: { name: 'secret', filtered: false } } } } } } };

    // Act: full load
    const id = await startJob(api, 'cm-mysql', src, dst, sel);

    // Assess: the target's shape and rows, read independently
    const cols = await myRows(dst, "SELECT GROUP_CONCAT(column_name ORDER BY ordinal_position SEPARATOR '|') FROM information_schema.columns WHERE table_schema = 'cm_copy' AND table_name = 'orders'");
    expect(JSON.parse(cols[0]!)[0].split('|')).toEqual(['id', 'line', HOSTILE, 'note']);
    const idx = await myRows(dst, "SELECT index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR '|') FROM information_schema.statistics WHERE table_schema = 'cm_copy' AND table_name = 'orders' GROUP BY index_name");
    expect(idx).toEqual([JSON.stringify(['PRIMARY', 'id|line']), JSON.stringify(['by_qty', `${HOSTILE}|id`]), JSON.stringify(['uq_note', 'note|id'])].sort());
    const check = await myRows(dst, "SELECT check_clause FROM information_schema.check_constraints WHERE constraint_schema = 'cm_copy'");
    expect(check.map((x) => JSON.parse(x)[0])).toEqual([`${qm(HOSTILE)} >= 0`]);
    expect(await targetView()).toEqual(await sourceView());
    expect((await targetView()).length).toBe(3000);

    // Act: CDC, including an update of only the dropped column and a key change
    const w = await mysqlConn(src, 'cm');
    await w.query(`INSERT INTO orders VALUES (5000, 0, 7, 'new secret', 'new'), (5000, 1, 8, NULL, NULL);
      UPDATE orders SET qty = qty + 1000 WHERE id BETWEEN 10 AND 20;
      UPDATE orders SET secret = 'only the dropped column' WHERE id = 30;
      UPDATE orders SET line = 9 WHERE id = 40 AND line = 2;
      DELETE FROM orders WHERE id BETWEEN 50 AND 60;`);
    await w.end();
    const r = await converge(async () => [await sourceView(), await targetView()]);

    // Assess
    expect(r.target).toEqual(r.source);
    expect(r.target.length).toBe(3000 + 2 - 33);

    // Compare: nothing, then exactly the value changed behind the job's back
    expect((await compare(api, id)).diffs.count).toBe(0);
    const t = await mysqlConn(dst);
    await t.query(`UPDATE cm_copy.orders SET ${qm(HOSTILE)} = 4242 WHERE id = 100 AND line = 1`);
    await t.end();
    const after = await compare(api, id);
    expect(after.diffs.detail).toMatchObject({ count: 1, source_target_meta_not_null: 1 });
    expect(after.diffs.infos.map((i) => [i.source_key_value, i.target_key_value])).toEqual([[['100', '1'], ['100', '1']]]);
    expect(await reportedColumns(id, after.taskId)).toEqual([['orders', 'different', '["100","1"]', 'qty']]);

    // DDL on the mapped table: the job fails with the statement named
    const d = await mysqlConn(src, 'cm');
    await d.query('ALTER TABLE orders ADD COLUMN extra INT');
    await d.end();
    const failed = await api.until(id, (j) => j.status === 'INCRE_TRANSFER_FAILED', 60_000);
    expect(failed.error_msg).toContain('ALTER TABLE orders ADD COLUMN extra INT');
    expect(failed.error_msg).toContain('column mapping');
  });
});

describe.runIf(runPg)('column renames and drops, PostgreSQL → PostgreSQL', () => {
  let src: DbServer;
  let dst: DbServer;
  beforeAll(async () => {
    [src, dst] = await Promise.all([startPostgres(), startPostgres()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([src?.stop(), dst?.stop()]);
  });

  /** The large value as its length and hash, so rows stay small to compare. */
  const sourceView = () => pgRows(src, 'cm', 'SELECT id, part, qty, length(body), md5(body), note FROM public.docs');
  const targetView = () => pgRows(dst, 'cm', `SELECT id, part, qty, length(${qp(HOSTILE)}), md5(${qp(HOSTILE)}), note FROM public.docs`);

  it('full load (COPY relay), CDC with an unchanged TOASTed value, and compare follow the mapping', async () => {
    // Prepare
    const api = apiClient(svc.url, svc.cred);
    for (const s of [src, dst]) {
      const c = await pgClient(s);
      await c.query('CREATE DATABASE cm');
      await c.end();
    }
    const c = await pgClient(src, 'cm');
    await c.query(`CREATE TABLE docs (id int NOT NULL, part int NOT NULL, qty int NOT NULL CHECK (qty >= 0), secret text, body text, note varchar(40), PRIMARY KEY (id, part));
      CREATE INDEX docs_qty ON docs (qty, id); CREATE INDEX docs_secret ON docs (secret); CREATE INDEX docs_body ON docs (left(body, 10));
      INSERT INTO docs SELECT g / 3, g % 3, g % 97, 'secret-' || g, 'body-' || g, 'note-' || g FROM generate_series(3, 3002) g;
      UPDATE docs SET body = (SELECT string_agg(md5(random()::text || i), '') FROM generate_series(1, 400) i) WHERE id IN (1, 2);`);
    await c.end();
    const sel = { object_scope: 'table', object_info: { cm: { schemas: { public: { tables: { docs: { name: 'docs', columns: { body: { name: HOSTILE }, secret: { filtered: false } } } } } } } } };

    // Act: full load
    const id = await startJob(api, 'cm-postgres', src, dst, sel, 'cm');

    // Assess
    const cols = await pgRows(dst, 'cm', "SELECT json_agg(attname ORDER BY attnum)::text FROM pg_attribute WHERE attrelid = 'public.docs'::regclass AND attnum > 0 AND NOT attisdropped");
    expect(JSON.parse(JSON.parse(cols[0]!)[0])).toEqual(['id', 'part', 'qty', HOSTILE, 'note']);
    const idx = await pgRows(dst, 'cm', "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'docs'");
    expect(idx.map((x) => JSON.parse(x)[0])).toEqual(['docs_body', 'docs_pkey', 'docs_qty']);
    expect(JSON.parse(idx.find((x) => JSON.parse(x)[0] === 'docs_body')!)[1]).toContain(`(${qp(HOSTILE)}, 10)`);
    const checks = await pgRows(dst, 'cm', "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'public.docs'::regclass AND contype = 'c'");
    expect(checks.map((x) => JSON.parse(x)[0])).toEqual(['CHECK ((qty >= 0))']);
    expect(await targetView()).toEqual(await sourceView());
    expect((await targetView()).length).toBe(3000);

    // Act: CDC, including an update of only the dropped column and one leaving the TOASTed value unchanged
    const w = await pgClient(src, 'cm');
    await w.query(`INSERT INTO docs VALUES (5000, 0, 7, 'new secret', 'new body', 'new'), (5000, 1, 8, NULL, NULL, NULL);
      UPDATE docs SET qty = qty + 1000 WHERE id BETWEEN 10 AND 20;
      UPDATE docs SET secret = 'only the dropped column' WHERE id = 30;
      UPDATE docs SET note = 'toast kept', qty = 1 WHERE id = 1;
      UPDATE docs SET part = 9 WHERE id = 2 AND part = 0;
      UPDATE docs SET part = 9 WHERE id = 40 AND part = 2;
      DELETE FROM docs WHERE id BETWEEN 50 AND 60;`);
    await w.end();
    const r = await converge(async () => [await sourceView(), await targetView()]);

    // Assess
    expect(r.target).toEqual(r.source);
    expect(r.target.length).toBe(3000 + 2 - 33);
    expect(r.target.filter((x) => JSON.parse(x)[3] > 10_000)).toHaveLength(6);

    // Compare: nothing, then exactly the value changed behind the job's back
    expect((await compare(api, id)).diffs.count).toBe(0);
    const t = await pgClient(dst, 'cm');
    await t.query(`UPDATE docs SET ${qp(HOSTILE)} = 'tampered' WHERE id = 100 AND part = 1`);
    await t.end();
    const after = await compare(api, id);
    expect(after.diffs.detail).toMatchObject({ count: 1, source_target_meta_not_null: 1 });
    expect(after.diffs.infos.map((i) => [i.source_key_value, i.target_key_value])).toEqual([[['100', '1'], ['100', '1']]]);
    expect(await reportedColumns(id, after.taskId)).toEqual([['public.docs', 'different', '["100","1"]', 'body']]);
    await api.ok('POST', '/v5/{project_id}/jobs/{job_id}/stop', { path: { job_id: id }, body: { is_force_stop: true } });
    await api.until(id, (j) => ['RELEASE_RESOURCE_COMPLETE', 'RELEASE_RESOURCE_FAILED'].includes(j.status), 60_000);
  });
});
