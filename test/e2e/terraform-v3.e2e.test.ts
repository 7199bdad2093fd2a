/**
 * The Terraform provider's `huaweicloud_drs_job` sequence, replayed against the local runtime
 * over HTTP and signed by the official Huawei SDK core, with the provider's own bodies and
 * checks (client-expectations §4, resource_huaweicloud_drs_job.go), against two real MariaDB
 * servers: create → poll batch-status to CONFIGURATION → batch-connection (so + ta; count == 2,
 * success == true) → batch-modification with store_db_info → (v5 db_object, as the provider does
 * for `databases`) → batch-precheck, poll batch-precheck-result to process/total_passed_rate 100%
 * → batch-starting → poll to INCRE_TRANSFER_STARTED → read (batch-detail, list, batch-progress)
 * → batch-pause-task → batch-retry-task → DELETE batch-jobs force_terminate → poll to
 * RELEASE_RESOURCE_COMPLETE → DELETE batch-jobs delete → batch-detail says DRS.M00289. Rows
 * written before the start, during the run and while paused are all on the target at the end,
 * compared with an independent dump.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../helpers/converge.js';
import { requireBinaries, startMariaDb, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn, mysqlDump, pgClient } from '../helpers/dumps.js';
import { huaweiClient, type HuaweiResponse } from '../helpers/huawei.js';
import { startLocal, type LocalService } from '../helpers/local.js';

const run = requireBinaries('mysql');
let src: DbServer;
let dst: DbServer;
let svc: LocalService;
const USER = 'drs_sync';
const PASSWORD = 'Terraform-e2e-Pw1';

async function grantUser(s: DbServer): Promise<void> {
  const c = await mysqlConn(s);
  await c.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'; GRANT ALL PRIVILEGES ON *.* TO '${USER}'@'%' WITH GRANT OPTION;`);
  await c.end();
}

beforeAll(async () => {
  if (!run) return;
  process.env.DRS_CDC_BUDGET_MS = '4000';
  process.env.DRS_CDC_MAX_ITERATIONS = '3';
  [src, dst] = await Promise.all([startMariaDb({ serverId: 71 }), startMariaDb({ serverId: 72 })]);
  await Promise.all([grantUser(src), grantUser(dst)]);
  const c = await mysqlConn(src);
  await c.query('CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(10,2), placed DATETIME(3), note TEXT, KEY by_customer (customer));');
  await c.query('INSERT INTO shop.orders VALUES ?', [Array.from({ length: 2000 }, (_, i) => [i + 1, `customer-${i % 37}`, (i * 3.17).toFixed(2), '2024-05-01 10:00:00.123', i % 5 ? `note ${i}` : null])]);
  await c.end();
  svc = await startLocal();
}, 180_000);

afterAll(async () => {
  await svc?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

/** What the provider's golangsdk sends: JSON bodies, X-Language en-us, signed with AK/SK. */
function provider() {
  const c = huaweiClient(svc.url, svc.cred);
  const call = (method: string, path: string, body?: unknown) => c.call(method, `/v3/{project_id}${path}`, { body });
  const ok = async (method: string, path: string, body: unknown, accepted: number[]) => {
    const res = await call(method, path, body);
    expect(accepted, `${method} ${path} → ${JSON.stringify(res)}`).toContain(res.httpStatusCode);
    return res as HuaweiResponse & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  return {
    call,
    /** golangsdk defaultOkCodes: POST 200/201/202, PUT 200/201/202, DELETE 200/202/204. */
    post: (path: string, body: unknown) => ok('POST', path, body, [200, 201, 202]),
    put: (path: string, body: unknown) => ok('PUT', path, body, [200, 201, 202]),
    del: (path: string, body: unknown) => ok('DELETE', path, body, [200, 202, 204]),
    /** waitingforJobStatus: batch-status until a target status; error_code must stay empty. */
    async waitStatus(id: string, pending: string[], target: string[], timeoutMs = 180_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        const r = await ok('POST', '/jobs/batch-status', { jobs: [id] }, [200]);
        expect(r.count).toBe(1);
        const s = r.results[0] as { status: string; error_code: string; error_message: string };
        expect(s.error_code, `${s.status}: ${s.error_message}`).toBe('');
        expect(['START_JOB_FAILED', 'CREATE_FAILED', 'RELEASE_RESOURCE_FAILED', 'CHILD_TRANSFER_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED']).not.toContain(s.status);
        last = s.status;
        if (target.includes(s.status)) return s.status;
        expect([...pending, ...target], `unexpected status ${s.status}`).toContain(s.status);
        await new Promise((res) => setTimeout(res, 200));
      }
      throw new Error(`job ${id} still ${last} after ${timeoutMs} ms`);
    },
  };
}

const endpoint = (s: DbServer, over: Record<string, unknown> = {}) => ({ db_type: 'mysql', ip: s.host, db_port: s.port, db_user: USER, db_password: PASSWORD, ...over });

async function insert(from: number, n: number): Promise<void> {
  const c = await mysqlConn(src);
  await c.query('INSERT INTO shop.orders VALUES ?', [Array.from({ length: n }, (_, i) => [from + i, `late-${i % 7}`, i, '2024-06-01 00:00:00.000', 'written later'])]);
  await c.query('UPDATE shop.orders SET amount = amount + 1 WHERE id <= 10');
  await c.query('DELETE FROM shop.orders WHERE id BETWEEN 20 AND 24');
  await c.end();
}

const same = async () => Promise.all([mysqlDump(src, 'shop', 'orders'), mysqlDump(dst, 'shop', 'orders').catch(() => [] as string[])]);

describe.runIf(run)('Terraform huaweicloud_drs_job over the v3 API (official SDK signer, real MariaDB)', () => {
  it('creates, tests, saves, prechecks, starts, replicates, pauses, retries, force-terminates and deletes a FULL_INCR_TRANS job', async () => {
    const tf = provider();
    const projectId = svc.cred.projectId;
    // --- resourceJobCreate: buildCreateParamter (direction up: the target is the "cloud" instance)
    const created = await tf.post('/jobs/batch-creation', {
      jobs: [
        {
          name: 'tf-drs-job',
          db_use_type: 'migration',
          engine_type: 'mysql',
          job_direction: 'up',
          net_type: 'eip',
          bind_eip: true,
          is_target_readonly: true,
          task_type: 'FULL_INCR_TRANS',
          description: 'created by terraform',
          multi_write: false,
          expired_days: '14',
          node_type: 'high',
          source_endpoint: endpoint(src, { project_id: projectId, ssl_link: false }),
          target_endpoint: endpoint(dst, { inst_id: 'b3e7d1c05fd44a8c9fa7ce1a4f2d8e01in01', region: 'eu-west-1', vpc_id: 'vpc-tf', subnet_id: 'subnet-tf', project_id: projectId, ssl_link: false }),
          customize_sutnet_id: 'subnet-tf',
          tags: [{ key: 'owner', value: 'terraform' }],
          sys_tags: [{ key: '_sys_enterprise_project_id', value: '0' }],
          is_open_fast_clean: false,
        },
      ],
    });
    expect(created.httpStatusCode).toBe(202);
    const id = created.results[0].id as string;
    expect(created.results[0]).toMatchObject({ status: 'CREATING', error_code: '' });
    await tf.waitStatus(id, ['CREATING'], ['CONFIGURATION']);

    // --- testConnections: one item per endpoint; count == 2 and success on both
    const conn = await tf.post('/jobs/batch-connection', {
      jobs: [
        { id, net_type: 'eip', end_point_type: 'so', project_id: projectId, db_type: 'mysql', ip: src.host, db_user: USER, db_password: PASSWORD, db_port: src.port, ssl_link: false },
        { id, net_type: 'eip', end_point_type: 'ta', project_id: projectId, region: 'eu-west-1', vpc_id: 'vpc-tf', subnet_id: 'subnet-tf', inst_id: 'b3e7d1c05fd44a8c9fa7ce1a4f2d8e01in01', db_type: 'mysql', ip: dst.host, db_user: USER, db_password: PASSWORD, db_port: dst.port, ssl_link: false },
      ],
    });
    expect(conn.count).toBe(2);
    expect(conn.results.map((r: { success: boolean }) => r.success), JSON.stringify(conn.results)).toEqual([true, true]);
    // a wrong password really fails
    const wrong = await tf.post('/jobs/batch-connection', { jobs: [{ id, net_type: 'eip', end_point_type: 'so', db_type: 'mysql', ip: src.host, db_user: USER, db_password: 'not-it', db_port: src.port }] });
    expect(wrong.results[0]).toMatchObject({ success: false, status: 'false' });
    expect(wrong.results[0].error_code).toMatch(/^DRS\.KE/);

    // --- reUpdateJob: store_db_info with both endpoints
    const saved = await tf.put('/jobs/batch-modification', {
      jobs: [
        {
          job_id: id, name: 'tf-drs-job', net_type: 'eip', engine_type: 'mysql', node_type: 'high', store_db_info: true, is_recreate: false, db_use_type: 'migration', description: 'created by terraform', task_type: 'FULL_INCR_TRANS', job_direction: 'up', is_target_readonly: true, replace_definer: true,
          source_endpoint: endpoint(src, { project_id: projectId, ssl_link: false }),
          target_endpoint: endpoint(dst, { inst_id: 'b3e7d1c05fd44a8c9fa7ce1a4f2d8e01in01', region: 'eu-west-1', vpc_id: 'vpc-tf', subnet_id: 'subnet-tf', project_id: projectId, ssl_link: false }),
        },
      ],
    });
    expect(saved.results[0]).toMatchObject({ id, status: 'success' });

    // --- `databases = ["shop"]`: the provider's v5 db_object update
    const sel = await huaweiClient(svc.url, svc.cred).call('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { shop: { name: 'shop', all: true } } } } } } });
    expect(sel.httpStatusCode).toBe(200);

    // --- preCheck: submit, then poll by job id until process 100% and total_passed_rate 100%
    const pre = await tf.post('/jobs/batch-precheck', { jobs: [{ job_id: id, precheck_mode: 'forStartJob' }] });
    expect(pre.results[0]).toMatchObject({ id, status: 'success' });
    let result: Record<string, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
      const r = await tf.post('/jobs/batch-precheck-result', { jobs: [id] });
      expect(r.count).toBe(1);
      result = r.results[0];
      expect(result.error_code).toBe('');
      if (result.process === '100%') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(result.process).toBe('100%');
    expect(result.total_passed_rate, JSON.stringify(result.precheck_result?.filter((x: { result: string }) => x.result === 'FAILED'))).toBe('100%');
    expect(result.result).toBe(true);

    // --- start now, then waitingforJobStatus "start"
    const started = await tf.post('/jobs/batch-starting', { jobs: [{ job_id: id, start_time: '' }] });
    expect(started.httpStatusCode).toBe(202);
    expect(started.results[0]).toMatchObject({ id, status: 'success' });
    await tf.waitStatus(id, ['STARTJOBING', 'WAITING_FOR_START', 'CONFIGURATION', 'FULL_TRANSFER_STARTED', 'FULL_TRANSFER_COMPLETE'], ['INCRE_TRANSFER_STARTED']);

    // --- changes after the full load arrive through CDC
    await insert(100_000, 300);
    await converge(same, 60_000);

    // --- resourceJobRead: batch-detail, the list by id (net_type), batch-progress
    const detail = await tf.post('/jobs/batch-detail', { jobs: [id] });
    const d = detail.results[0];
    expect(d).toMatchObject({ id, name: 'tf-drs-job', status: 'INCRE_TRANSFER_STARTED', db_use_type: 'migration', job_direction: 'up', task_type: 'FULL_INCR_TRANS', is_target_readonly: true, multi_write: false, inst_info: { inst_type: 'high' }, tags: [{ key: 'owner', value: 'terraform' }] });
    expect(d.create_time).toMatch(/^\d{13}$/);
    expect(d.target_endpoint).toMatchObject({ db_type: 'mysql', ip: dst.host, db_port: dst.port, db_user: USER, inst_id: 'b3e7d1c05fd44a8c9fa7ce1a4f2d8e01in01' });
    expect(JSON.stringify(detail)).not.toContain(PASSWORD);
    const listed = await tf.post('/jobs', { cur_page: 1, per_page: 1, name: id, db_use_type: 'migration' });
    expect(listed).toMatchObject({ total_record: 1, jobs: [{ id, net_type: 'eip', children: [] }] });
    const progress = await tf.post('/jobs/batch-progress', { jobs: [id] });
    expect(progress.results[0]).toMatchObject({ job_id: id, progress: '100%', transfer_status: 'INCRE_TRANSFER_STARTED', task_mode: 'FULL_INCR_TRANS' });
    expect(Number(progress.results[0].incre_trans_delay)).toBeGreaterThanOrEqual(0);

    // --- pause (the provider's `action = "stop"` goes through v5; the v3 batch is the same command)
    const paused = await tf.post('/jobs/batch-pause-task', { jobs: [{ job_id: id, pause_mode: 'target' }] });
    expect(paused.results[0]).toMatchObject({ id, status: 'success' });
    await tf.waitStatus(id, ['INCRE_TRANSFER_STARTED'], ['PAUSING']);
    // The running task sees the pause at its next status check (within a second) and returns.
    await new Promise((r) => setTimeout(r, 3000));
    await insert(200_000, 200);
    await new Promise((r) => setTimeout(r, 1500));
    const whilePaused = await mysqlDump(dst, 'shop', 'orders');
    expect(whilePaused.length).toBeLessThan((await mysqlDump(src, 'shop', 'orders')).length);

    // --- retry: resumes from the applied position; the rows written while paused arrive
    const retried = await tf.post('/jobs/batch-retry-task', { jobs: [{ job_id: id }] });
    expect(retried.results[0]).toMatchObject({ id, status: 'success' });
    await tf.waitStatus(id, ['PAUSING', 'STARTJOBING'], ['INCRE_TRANSFER_STARTED']);
    await converge(same, 60_000);

    // --- resourceJobDelete: not deletable while running → force_terminate, wait, then delete
    const refused = await tf.call('DELETE', '/jobs/batch-jobs', { jobs: [{ delete_type: 'delete', job_id: id }] });
    expect(refused).toMatchObject({ httpStatusCode: 400, error_code: 'DRS.M00304' });
    const term = await tf.del('/jobs/batch-jobs', { jobs: [{ delete_type: 'force_terminate', job_id: id }] });
    expect(term.httpStatusCode).toBe(202);
    expect(term.results[0]).toMatchObject({ id, status: 'success' });
    await tf.waitStatus(id, ['INCRE_TRANSFER_STARTED', 'RELEASE_RESOURCE_STARTED'], ['RELEASE_RESOURCE_COMPLETE']);
    const gone = await tf.del('/jobs/batch-jobs', { jobs: [{ delete_type: 'delete', job_id: id }] });
    expect(gone.results[0]).toMatchObject({ id, status: 'success' });
    // resourceJobRead after delete: a 400 whose results[0].error_code is DRS.M00289 means "gone"
    const after = await tf.call('POST', '/jobs/batch-detail', { jobs: [id] });
    expect(after).toMatchObject({ httpStatusCode: 400, error_code: 'DRS.M00289' });

    // --- the data: every row, independently dumped, equal on both sides
    const [a, b] = await same();
    expect(a.length).toBe(2000 + 300 + 200 - 5);
    expect(b).toEqual(a);
  });

  it('answers a bad body with 400 naming the field and an unknown job per item, through the SDK', async () => {
    const tf = provider();
    const bad = await tf.call('POST', '/jobs/batch-creation', { jobs: [{ name: 'tf-bad', db_use_type: 'migration', engine_type: 'mysql', job_direction: 'up', net_type: 'eip', node_type: 'high', source_endpoint: { db_port: '3306' }, target_endpoint: {} }] });
    expect(bad).toMatchObject({ httpStatusCode: 400, error_code: 'DRS.M00202' });
    expect(String(bad.error_msg)).toContain('db_port');
    const missing = await tf.call('POST', '/jobs/batch-status', { jobs: ['00000000-0000-4000-8000-0000000jb000'] });
    expect(missing).toMatchObject({ httpStatusCode: 400, error_code: 'DRS.M00289' });
  });
});

describe.runIf(run)('DR switchover over the v3 API (official SDK signer, real MariaDB)', () => {
  it('replicates a cloudDataGuard job, switches it over with zero data loss, and replicates the other way', async () => {
    const tf = provider();
    const c = await mysqlConn(src);
    await c.query("CREATE DATABASE bank; CREATE TABLE bank.acct (id INT PRIMARY KEY, owner VARCHAR(40), balance DECIMAL(12,2)); CREATE USER 'app'@'%' IDENTIFIED BY 'App-pw-1'; GRANT SELECT, INSERT, UPDATE, DELETE ON bank.* TO 'app'@'%';");
    await c.query('INSERT INTO bank.acct VALUES ?', [Array.from({ length: 500 }, (_, i) => [i + 1, `owner-${i}`, i])]);
    await c.end();
    const d0 = await mysqlConn(dst);
    await d0.query("CREATE USER 'app'@'%' IDENTIFIED BY 'App-pw-1'; GRANT SELECT, INSERT, UPDATE, DELETE ON bank.* TO 'app'@'%';");
    await d0.end();
    const appWrite = async (s: DbServer, id: number) => {
      const a = await (await import('mysql2/promise')).default.createConnection({ host: s.host, port: s.port, user: 'app', password: 'App-pw-1' });
      try {
        await a.query('INSERT INTO bank.acct VALUES (?, ?, ?)', [id, 'app', 1]);
      } finally {
        await a.end();
      }
    };
    const bank = async () => Promise.all([mysqlDump(src, 'bank', 'acct'), mysqlDump(dst, 'bank', 'acct').catch(() => [] as string[])]);

    const created = await tf.post('/jobs/batch-creation', { jobs: [{ name: 'tf-dr-job', db_use_type: 'cloudDataGuard', engine_type: 'cloudDataGuard-mysql', job_direction: 'up', net_type: 'eip', bind_eip: true, is_target_readonly: true, task_type: 'FULL_INCR_TRANS', multi_write: false, node_type: 'high', source_endpoint: endpoint(src), target_endpoint: endpoint(dst, { inst_id: 'dr-standby-in01' }), customize_sutnet_id: 'subnet-tf' }] });
    const id = created.results[0].id as string;
    await tf.waitStatus(id, ['CREATING'], ['CONFIGURATION']);
    const conn = await tf.post('/jobs/batch-connection', { jobs: [{ id, net_type: 'eip', end_point_type: 'so', db_type: 'mysql', ip: src.host, db_port: src.port, db_user: USER, db_password: PASSWORD }, { id, net_type: 'eip', end_point_type: 'ta', db_type: 'mysql', ip: dst.host, db_port: dst.port, db_user: USER, db_password: PASSWORD }] });
    expect(conn.results.map((r: { success: boolean }) => r.success)).toEqual([true, true]);
    await tf.put('/jobs/batch-modification', { jobs: [{ job_id: id, store_db_info: true, source_endpoint: endpoint(src), target_endpoint: endpoint(dst, { inst_id: 'dr-standby-in01' }) }] });
    const sel = await tf.put('/jobs/batch-select-objects', { jobs: [{ job_id: id, selected: true, job: [{ id: 'bank', object_type: 'database', object_name: 'bank', select: 'true' }] }] });
    expect(sel).toMatchObject({ httpStatusCode: 202, all_counts: 1, results: [{ job_id: id, status: true }] });
    await tf.post('/jobs/batch-precheck', { jobs: [{ job_id: id, precheck_mode: 'forStartJob' }] });
    let pre: Record<string, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const deadline = Date.now() + 120_000; Date.now() < deadline && pre.process !== '100%'; await new Promise((r) => setTimeout(r, 200))) pre = (await tf.post('/jobs/batch-precheck-result', { jobs: [id] })).results[0];
    expect(pre.total_passed_rate, JSON.stringify(pre.precheck_result?.filter((x: { result: string }) => x.result === 'FAILED'))).toBe('100%');
    await tf.post('/jobs/batch-starting', { jobs: [{ job_id: id }] });
    await tf.waitStatus(id, ['STARTJOBING', 'CONFIGURATION', 'FULL_TRANSFER_STARTED', 'FULL_TRANSFER_COMPLETE'], ['INCRE_TRANSFER_STARTED']);
    await appWrite(src, 10_001);
    expect((await converge(bank, 60_000)).target.length).toBe(501);

    const sw = await tf.post('/jobs/batch-switchover', { jobs: [id] });
    expect(sw.httpStatusCode).toBe(202);
    expect(sw.results[0]).toMatchObject({ job_id: id, job_direction: 'down', is_target_readonly: true, rpo_millis: 0, error_code: '', source_db: { ip: dst.host, db_port: dst.port }, target_db: { db_port: src.port } });
    expect(sw.results[0].rto_millis).toBeLessThan(20_000);
    console.log(`DR switchover on MariaDB: RPO 0 ms, RTO ${sw.results[0].rto_millis} ms (lag when writes stopped: ${sw.results[0].lag_at_switch_millis} ms)`);

    // the old primary refuses application writes; the new primary takes them and they flow back
    await expect(appWrite(src, 10_002)).rejects.toThrow(/read-only|READ.ONLY/i);
    await tf.waitStatus(id, ['PAUSING', 'STARTJOBING'], ['INCRE_TRANSFER_STARTED']);
    await appWrite(dst, 10_003);
    const { source, target } = await converge(bank, 60_000);
    expect(source.length).toBe(502);
    expect(source).toEqual(target);
    const detail = await tf.post('/jobs/batch-detail', { jobs: [id] });
    expect(detail.results[0]).toMatchObject({ job_direction: 'down', original_job_direction: 'up', source_endpoint: { db_port: dst.port }, target_endpoint: { db_port: src.port } });

    await tf.del('/jobs/batch-jobs', { jobs: [{ delete_type: 'force_terminate', job_id: id }] });
    await tf.waitStatus(id, ['INCRE_TRANSFER_STARTED', 'RELEASE_RESOURCE_STARTED'], ['RELEASE_RESOURCE_COMPLETE']);
    await tf.del('/jobs/batch-jobs', { jobs: [{ delete_type: 'delete', job_id: id }] });
  });
});

describe.runIf(run)('database parameters and source accounts over the v3 API (real MariaDB)', () => {
  it('compares real SHOW GLOBAL VARIABLES of both servers, changes one on the target for real, and lists the source accounts', async () => {
    const tf = provider();
    const created = await tf.post('/jobs/batch-creation', { jobs: [{ name: 'tf-params-job', db_use_type: 'migration', engine_type: 'mysql', job_direction: 'up', net_type: 'eip', node_type: 'high', task_type: 'FULL_TRANS', source_endpoint: endpoint(src), target_endpoint: endpoint(dst) }] });
    const id = created.results[0].id as string;
    await tf.waitStatus(id, ['CREATING'], ['CONFIGURATION']);
    const d = await mysqlConn(dst);
    await d.query('SET GLOBAL max_connections = 321');
    const got = await tf.post('/jobs/batch-get-params', { jobs: [id], refresh: '1' });
    expect(got.httpStatusCode).toBe(202);
    const params = got.params_list[0].params as Record<string, string>[];
    const max = params.find((p) => p.key === 'max_connections')!;
    expect(max).toMatchObject({ source_value: '500', target_value: '321', compare_result: 'false', need_restart: 'false' });
    expect(params.find((p) => p.key === 'character_set_server')).toMatchObject({ source_value: 'utf8mb4', target_value: 'utf8mb4', compare_result: 'true' });
    const mod = await tf.post(`/jobs/${id}/params`, { group: 'performance', params: [{ key: 'max_connections', target_value: '500' }] });
    expect(mod).toMatchObject({ httpStatusCode: 202, success: true, should_restart: 'false' });
    const [[row]] = (await d.query("SHOW GLOBAL VARIABLES LIKE 'max_connections'")) as unknown as [{ Value: string }[]];
    expect(row.Value).toBe('500');
    await d.end();
    const restart = await tf.call('POST', `/jobs/${id}/params`, { group: 'common', params: [{ key: 'lower_case_table_names', target_value: '1' }] });
    expect(restart).toMatchObject({ httpStatusCode: 400, error_code: 'DRS.M00202' });

    const users = await huaweiClient(svc.url, svc.cred).call('GET', '/v3/{project_id}/jobs/{job_id}/get-src-user', { path: { job_id: id } });
    expect(users).toMatchObject({ httpStatusCode: 200, job_id: id, is_success: true });
    const drs = (users.user_list as { account: string; is_transfer: boolean; privileges: string }[]).find((u) => u.account === `'${USER}'@'%'`);
    expect(drs).toMatchObject({ is_transfer: false });
    expect(drs!.privileges).toMatch(/GRANT ALL PRIVILEGES ON \*\.\*/);
    expect(JSON.stringify(users)).not.toContain(PASSWORD);
    await tf.del('/jobs/batch-jobs', { jobs: [{ delete_type: 'delete', job_id: id }] });
  });
});

const runPg = requireBinaries('postgresql');
describe.runIf(run && runPg)('database parameters and accounts over the v3 API (real PostgreSQL)', () => {
  let pgA: DbServer;
  let pgB: DbServer;
  beforeAll(async () => {
    [pgA, pgB] = await Promise.all([startPostgres(), startPostgres()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([pgA?.stop(), pgB?.stop()]);
  });

  it('compares pg_settings of both servers, applies a change with ALTER SYSTEM, and lists roles', async () => {
    const tf = provider();
    const pgEndpoint = (s: DbServer) => ({ db_type: 'postgresql', ip: s.host, db_port: s.port, db_user: s.user, db_password: s.password || 'unused', db_name: 'postgres' });
    const created = await tf.post('/jobs/batch-creation', { jobs: [{ name: 'tf-pg-params', db_use_type: 'sync', engine_type: 'postgresql', job_direction: 'up', net_type: 'eip', node_type: 'high', task_type: 'FULL_TRANS', source_endpoint: pgEndpoint(pgA), target_endpoint: pgEndpoint(pgB) }] });
    const id = created.results[0].id as string;
    await tf.waitStatus(id, ['CREATING'], ['CONFIGURATION']);
    const got = await tf.post('/jobs/batch-get-params', { jobs: [id], refresh: '1' });
    const params = got.params_list[0].params as Record<string, string>[];
    expect(params.find((p) => p.key === 'max_connections')).toMatchObject({ need_restart: 'true', data_type: 'figure' });
    expect(params.find((p) => p.key === 'work_mem')).toMatchObject({ need_restart: 'false', compare_result: 'true' });
    const mod = await tf.post(`/jobs/${id}/params`, { group: 'performance', params: [{ key: 'work_mem', target_value: '8192' }] });
    expect(mod).toMatchObject({ success: true });
    const c = await pgClient(pgB);
    const r = await c.query("SELECT setting FROM pg_settings WHERE name = 'work_mem'");
    await c.end();
    expect(r.rows[0].setting).toBe('8192');
    const users = await huaweiClient(svc.url, svc.cred).call('GET', '/v3/{project_id}/jobs/{job_id}/get-src-user', { path: { job_id: id } });
    expect(users).toMatchObject({ httpStatusCode: 200, is_success: true });
    expect((users.user_list as { account: string }[]).map((u) => u.account)).toContain(pgA.user);
  });
});
