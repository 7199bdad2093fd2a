/**
 * Views, routines, triggers, events and accounts, MariaDB → MariaDB, through the API of the
 * in-process runtime (v5 job lifecycle, v3 batch-replace-definer / get-src-user /
 * batch-update-user / batch-struct-detail). The target is checked with the plain driver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { apiClient } from '../helpers/client.js';
import { requireBinaries, startMariaDb, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn } from '../helpers/dumps.js';
import { createJobBody } from '../helpers/jobs.js';
import { startLocal, type LocalService } from '../helpers/local.js';
import { table } from '../../lib/store/table.js';
import { jobPk } from '../../lib/store/job-store.js';

const run = requireBinaries('mysql');
let src: DbServer;
let dst: DbServer;
let svc: LocalService;
const ROWS = 500;
const APP_PASSWORD = 'App-Secret-42!';

const SOURCE_SQL = `
CREATE DATABASE shop;
CREATE TABLE shop.t (id INT PRIMARY KEY, v INT NOT NULL);
CREATE TABLE shop.audit (id INT AUTO_INCREMENT PRIMARY KEY, tid INT NOT NULL, note VARCHAR(40));
CREATE USER 'someone'@'%' IDENTIFIED BY 'someone-pw-1';
GRANT SELECT, INSERT, DELETE, EXECUTE, TRIGGER ON shop.* TO 'someone'@'%';
CREATE DEFINER='someone'@'%' TRIGGER shop.t_ai AFTER INSERT ON shop.t FOR EACH ROW INSERT INTO audit (tid, note) VALUES (NEW.id, 'shop.t insert');
CREATE DEFINER='someone'@'%' SQL SECURITY DEFINER VIEW shop.v_big AS SELECT t.id, t.v, 'shop.t' AS origin FROM shop.t WHERE t.v > 10;
CREATE DEFINER='someone'@'%' VIEW shop.v_over AS SELECT COUNT(*) AS n FROM shop.v_big;
CREATE DEFINER='someone'@'%' FUNCTION shop.twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
CREATE DEFINER='someone'@'%' PROCEDURE shop.add_row(IN k INT) BEGIN INSERT INTO shop.t (id, v) VALUES (k, twice(k)); END;
CREATE DEFINER='someone'@'%' EVENT shop.nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00' DISABLE DO DELETE FROM shop.audit WHERE id < 0;
CREATE ROLE reader;
GRANT SELECT ON shop.* TO reader;
CREATE USER 'app'@'%' IDENTIFIED BY '${APP_PASSWORD}';
GRANT SELECT, INSERT ON shop.* TO 'app'@'%';
GRANT EXECUTE ON PROCEDURE shop.add_row TO 'app'@'%';
GRANT SELECT ON other.* TO 'app'@'%';
GRANT reader TO 'app'@'%';
`;

beforeAll(async () => {
  if (!run) return;
  [src, dst] = await Promise.all([startMariaDb({ serverId: 31 }), startMariaDb({ serverId: 32 })]);
  const c = await mysqlConn(src);
  for (const stmt of SOURCE_SQL.split(';\n').map((s) => s.trim()).filter(Boolean)) await c.query(stmt);
  // The source's trigger fills audit: the copy must carry these rows, not make more.
  for (let i = 1; i <= ROWS; i++) await c.query('INSERT INTO shop.t VALUES (?, ?)', [i, i % 50]);
  await c.end();
  svc = await startLocal();
}, 180_000);

afterAll(async () => {
  await svc?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

async function scalar(s: DbServer, sql: string, values: unknown[] = []): Promise<unknown> {
  const c = await mysqlConn(s);
  try {
    const [rows] = (await c.query({ sql, values, rowsAsArray: true })) as unknown as [unknown[][]];
    return rows[0]?.[0];
  } finally {
    await c.end();
  }
}

describe.runIf(run)('views, routines, triggers, events and accounts MariaDB → MariaDB', () => {
  it('migrates them with the database renamed, the migration user as definer, the trigger only after the full load, and the selected accounts with their password and grants', async () => {
    const api = apiClient(svc.url, svc.cred);
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'mysql-objects', source: src, target: dst }) });
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { shop: { name: 'shop_copy', all: true } } } } } } });
    const definer = await api.ok('POST', '/v3/{project_id}/jobs/batch-replace-definer', { body: { jobs: [{ job_id: id, replace_definer: true }] } });
    expect(definer.results).toMatchObject([{ id, status: 'success' }]);

    // The source's accounts, never with a password hash.
    const listed = await api.ok('GET', '/v3/{project_id}/jobs/{job_id}/get-src-user', { path: { job_id: id } });
    const hash = String(await scalar(src, "SELECT JSON_VALUE(Priv, '$.authentication_string') FROM mysql.global_priv WHERE User = 'app'"));
    expect(hash).toMatch(/^\*[0-9A-F]{40}$/);
    expect(JSON.stringify(listed)).not.toContain(hash);
    const app = (listed.user_list as { id: string; is_transfer: boolean; privileges: string }[]).find((u) => u.id === 'app@%');
    expect(app).toMatchObject({ is_transfer: true });
    expect(app!.privileges).toContain('GRANT SELECT, INSERT ON `shop`.*');
    expect(listed.roles_list).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'reader', is_transfer: true })]));
    expect((listed.user_list as { id: string; is_transfer: boolean }[]).find((u) => u.id.startsWith('root@'))).toMatchObject({ is_transfer: false });

    const users = await api.ok('PUT', '/v3/{project_id}/jobs/batch-update-user', {
      body: { jobs: [{ job_id: id, is_migrate_user: true, is_set_password: false, list: [{ id: 'app@%', account: "'app'@'%'", is_transfer: true, roles: ['reader'], selected: true }], user_roles: [{ role: 'reader', is_transfer: true, privileges: '', selected: true }] }] },
    });
    expect(users.results).toMatchObject([{ job_id: id, is_success: true, user_list: [{ id: 'app@%', selected: true }], roles_list: [{ role: 'reader', selected: true }] }]);

    const pre = await api.precheck(id);
    expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result !== 'PASSED'))).toBe(true);
    expect(pre.precheck_results.find((r) => r.item === 'userRequirementsIsEnoughForDefiner')).toMatchObject({ result: 'PASSED' });
    await api.action(id, 'start');
    const done = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 120_000);
    expect(done.status, JSON.stringify(done)).toBe('FULL_TRANSFER_COMPLETE');

    // Rows: equal on both sides: the target's trigger did not fire on the loader's inserts.
    expect(Number(await scalar(dst, 'SELECT COUNT(*) FROM shop_copy.t'))).toBe(ROWS);
    expect(Number(await scalar(dst, 'SELECT COUNT(*) FROM shop_copy.audit'))).toBe(Number(await scalar(src, 'SELECT COUNT(*) FROM shop.audit')));
    expect(Number(await scalar(src, 'SELECT COUNT(*) FROM shop.audit'))).toBe(ROWS);

    // Every object is in the renamed database, with the migration user as definer.
    const me = String(await scalar(dst, 'SELECT CURRENT_USER()'));
    const definers = async (sql: string) => {
      const c = await mysqlConn(dst);
      const [rows] = (await c.query({ sql, rowsAsArray: true })) as unknown as [unknown[][]];
      await c.end();
      return rows.map((r) => `${r[0]}=${r[1]}`).sort();
    };
    expect(await definers("SELECT TABLE_NAME, DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop_copy'")).toEqual([`v_big=${me}`, `v_over=${me}`]);
    expect(await definers("SELECT ROUTINE_NAME, DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'shop_copy'")).toEqual([`add_row=${me}`, `twice=${me}`]);
    expect(await definers("SELECT TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'shop_copy'")).toEqual([`t_ai=${me}`]);
    expect(await definers("SELECT EVENT_NAME, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'shop_copy'")).toEqual([`nightly=${me}`]);
    const c = await mysqlConn(dst);
    const [[view]] = (await c.query('SHOW CREATE VIEW shop_copy.v_big')) as unknown as [Record<string, string>[]];
    expect(view!['Create View']).toContain('`shop_copy`.`t`');
    expect(view!['Create View']).not.toContain('`shop`.');
    expect(view!['Create View']).toContain("'shop.t'"); // a string literal is left alone
    const [[proc]] = (await c.query('SHOW CREATE PROCEDURE shop_copy.add_row')) as unknown as [Record<string, string>[]];
    expect(proc!['Create Procedure']).toContain('`shop_copy`.t');
    expect(Number(await scalar(dst, 'SELECT shop_copy.twice(21)'))).toBe(42);
    expect(await scalar(dst, 'SELECT n FROM shop_copy.v_over')).toBe(await scalar(src, 'SELECT n FROM shop.v_over'));
    // The trigger works on the target now: a new row is audited once.
    await c.query('CALL shop_copy.add_row(100001)');
    await c.end();
    expect(Number(await scalar(dst, 'SELECT COUNT(*) FROM shop_copy.audit WHERE tid = 100001'))).toBe(1);
    expect(Number(await scalar(dst, 'SELECT v FROM shop_copy.t WHERE id = 100001'))).toBe(200002);

    // The account: same password (it logs in with it), grants on the renamed database only.
    const login = await mysql.createConnection({ host: dst.host, port: dst.port, user: 'app', password: APP_PASSWORD });
    const [[n]] = (await login.query({ sql: 'SELECT COUNT(*) FROM shop_copy.t', rowsAsArray: true })) as unknown as [unknown[][]];
    expect(Number(n![0])).toBe(ROWS + 1);
    const [grants] = (await login.query({ sql: 'SHOW GRANTS', rowsAsArray: true })) as unknown as [unknown[][]];
    await login.end();
    const text = grants.map((g) => String(g[0])).join('\n');
    expect(text).toContain('GRANT SELECT, INSERT ON `shop_copy`.* TO `app`@`%`');
    expect(text).toContain('GRANT EXECUTE ON PROCEDURE `shop_copy`.`add_row` TO `app`@`%`');
    expect(text).toContain('GRANT `reader` TO `app`@`%`');
    expect(text).not.toContain('`other`');
    expect(text).not.toMatch(/`shop`\./);
    await expect(mysql.createConnection({ host: dst.host, port: dst.port, user: 'app', password: 'wrong' })).rejects.toThrow(/Access denied/);
    expect(String(await scalar(dst, 'SHOW GRANTS FOR reader'))).toContain('GRANT USAGE ON *.* TO `reader`');
    expect(Number(await scalar(dst, "SELECT COUNT(*) FROM mysql.user WHERE User = 'someone'"))).toBe(0); // not selected: not created

    // batch-struct-detail lists what was migrated.
    for (const [type, names] of [['view', ['v_big', 'v_over']], ['procedure', ['add_row', 'twice']], ['trigger', ['t_ai']]] as const) {
      const detail = await api.ok('POST', `/v3/{project_id}/jobs/${type}/batch-struct-detail`, { body: { jobs: [id], page_req: { cur_page: 1, per_page: 0 } } });
      const list = detail.results[0].struct_detail.list as { src_DB: string; src_TB: string; dst_DB: string; progress: number }[];
      expect(list.map((o) => o.src_TB).sort(), type).toEqual([...names]);
      expect(list.every((o) => o.src_DB === 'shop' && o.dst_DB === 'shop_copy' && o.progress === 100), type).toBe(true);
    }

    // Nothing the service stored or logged carries the password or its hash.
    const stored = JSON.stringify([...(await table().query(`P#${svc.cred.projectId}`)), ...(await table().query(jobPk(svc.cred.projectId, id)))]);
    expect(stored).not.toContain(hash);
    expect(stored).not.toContain(hash.slice(1));
    expect(stored).not.toContain(APP_PASSWORD);
    const logs = await api.ok('GET', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, query: { type: 'log' } });
    expect(JSON.stringify(logs)).toContain('step 2/5 accounts: 2 created');
  });

  it('keeps the source definers when replace_definer is false: the precheck warns, a view over a view of a missing definer fails the job clearly, and a retry after creating the definer completes', async () => {
    const api = apiClient(svc.url, svc.cred);
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'mysql-keep-definer', source: src, target: dst }) });
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { shop: { name: 'shop_keep', all: true } } } } } } });
    await api.ok('POST', '/v3/{project_id}/jobs/batch-replace-definer', { body: { jobs: [{ job_id: id, replace_definer: false }] } });
    const pre = await api.precheck(id);
    const item = pre.precheck_results.find((r) => r.item === 'userRequirementsIsEnoughForDefiner');
    expect(item).toMatchObject({ result: 'ALARM' });
    expect(item!.failed_reason).toContain('someone@%');
    expect(pre.result).toBe(true); // an alarm, not a failure
    await api.action(id, 'start');
    const failed = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 120_000);
    // MariaDB refuses a view over a DEFINER view whose definer does not exist: said, not hidden.
    expect(failed.status).toBe('FULL_TRANSFER_FAILED');
    expect(failed.error_msg).toContain('view shop.v_over');
    expect(failed.error_msg).toContain("'someone'@'%'");
    expect(await scalar(dst, "SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop_keep' AND TABLE_NAME = 'v_big'")).toBe('someone@%');
    const logs = JSON.stringify(await api.ok('GET', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, query: { type: 'log' } }));
    expect(logs).toContain('definer someone@% does not exist on the target');

    // The user creates the definer on the target and retries: what exists is kept, the rest is created.
    const c = await mysqlConn(dst);
    await c.query("CREATE USER 'someone'@'%' IDENTIFIED BY 'x-1234'");
    await c.query("GRANT SELECT, INSERT, DELETE, EXECUTE, TRIGGER ON shop_keep.* TO 'someone'@'%'");
    await c.end();
    await api.action(id, 'restart');
    const done = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 120_000);
    expect(done.status, JSON.stringify(done)).toBe('FULL_TRANSFER_COMPLETE');
    expect(await scalar(dst, "SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop_keep' AND TABLE_NAME = 'v_over'")).toBe('someone@%');
    expect(await scalar(dst, "SELECT DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'shop_keep'")).toBe('someone@%');
    expect(Number(await scalar(dst, 'SELECT COUNT(*) FROM shop_keep.audit'))).toBe(ROWS);
  });

  it('with incremental sync, creates triggers and events only when the job ends: changes applied during CDC never fire them', async () => {
    process.env.DRS_TRIGGER_GRACE_MS = '300';
    const api = apiClient(svc.url, svc.cred);
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'mysql-objects-incr', taskType: 'FULL_INCR_TRANS', source: src, target: dst }) });
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { shop: { name: 'shop_incr', all: true } } } } } } });
    expect((await api.precheck(id)).result).toBe(true);
    await api.action(id, 'start');
    await api.until(id, (j) => j.status === 'INCRE_TRANSFER_STARTED' || j.status.endsWith('FAILED'), 120_000);
    expect(Number(await scalar(dst, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'shop_incr'"))).toBe(0);
    expect(Number(await scalar(dst, "SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop_incr'"))).toBe(2);
    // A source insert fires the source's trigger; both rows arrive through CDC, none is made twice.
    const c = await mysqlConn(src);
    await c.query('INSERT INTO shop.t VALUES (200001, 7), (200002, 8)');
    await c.end();
    const want = Number(await scalar(src, 'SELECT COUNT(*) FROM shop.audit'));
    const deadline = Date.now() + 30_000;
    while (Number(await scalar(dst, 'SELECT COUNT(*) FROM shop_incr.audit')) < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(Number(await scalar(dst, 'SELECT COUNT(*) FROM shop_incr.audit'))).toBe(want);
    await api.ok('POST', '/v5/{project_id}/jobs/{job_id}/stop', { path: { job_id: id }, body: {} });
    const ended = await api.until(id, (j) => j.status.startsWith('RELEASE_RESOURCE_') && j.status !== 'RELEASE_RESOURCE_STARTED', 60_000);
    expect(ended.status, JSON.stringify(ended)).toBe('RELEASE_RESOURCE_COMPLETE');
    expect(Number(await scalar(dst, 'SELECT COUNT(*) FROM shop_incr.audit'))).toBe(want);
    expect(await scalar(dst, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'shop_incr'")).toBe('t_ai');
    expect(await scalar(dst, "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'shop_incr'")).toBe('nightly');
  });

  it('gives a migrated account the new password the request sets (is_set_password), keeping its grants', async () => {
    const c = await mysqlConn(src);
    await c.query("CREATE USER 'ops'@'%' IDENTIFIED BY 'old-ops-pw-1' WITH MAX_QUERIES_PER_HOUR 500");
    await c.query("GRANT SELECT ON shop.t TO 'ops'@'%'");
    await c.end();
    const api = apiClient(svc.url, svc.cred);
    const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'mysql-new-password', source: src, target: dst }) });
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'table', object_info: { shop: { name: 'shop_pw', tables: { t: {} } } } } } } } });
    await api.ok('PUT', '/v3/{project_id}/jobs/batch-update-user', {
      body: { jobs: [{ job_id: id, is_migrate_user: true, is_set_password: false, list: [{ id: 'ops@%', account: "'ops'@'%'", is_transfer: true, roles: [], selected: true, is_set_password: true, password: 'New-Ops-Pass-77' }] }] },
    });
    expect((await api.precheck(id)).result).toBe(true);
    await api.action(id, 'start');
    const done = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 120_000);
    expect(done.status, JSON.stringify(done)).toBe('FULL_TRANSFER_COMPLETE');
    // Only the selected table: no views or routines of a partly selected database; the table's trigger goes with it.
    expect(Number(await scalar(dst, "SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop_pw'"))).toBe(0);
    expect(Number(await scalar(dst, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'shop_pw'"))).toBe(1);
    const login = await mysql.createConnection({ host: dst.host, port: dst.port, user: 'ops', password: 'New-Ops-Pass-77' });
    const [grants] = (await login.query({ sql: 'SHOW GRANTS', rowsAsArray: true })) as unknown as [unknown[][]];
    await login.end();
    expect(grants.map((g) => String(g[0])).join('\n')).toContain('GRANT SELECT ON `shop_pw`.`t` TO `ops`@`%`');
    await expect(mysql.createConnection({ host: dst.host, port: dst.port, user: 'ops', password: 'old-ops-pw-1' })).rejects.toThrow(/Access denied/);
    expect(String(await scalar(dst, "SHOW CREATE USER 'ops'@'%'"))).toContain('MAX_QUERIES_PER_HOUR 500');
    const stored = JSON.stringify([...(await table().query(`P#${svc.cred.projectId}`)), ...(await table().query(jobPk(svc.cred.projectId, id)))]);
    expect(stored).not.toContain('New-Ops-Pass-77');
  });
});
