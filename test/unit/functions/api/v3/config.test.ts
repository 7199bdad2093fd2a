/**
 * v3 configuration batches: connection tests, modification, object selection, speed limits,
 * passwords, definers, notifications, users, row filters and the sync policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as transformation } from '../../../../../functions/api/v3/batch-change-data.js';
import { handler as resetPwd } from '../../../../../functions/api/v3/batch-reset-password.js';
import { handler as selectObjects } from '../../../../../functions/api/v3/batch-set-objects.js';
import { handler as policy } from '../../../../../functions/api/v3/batch-set-policy.js';
import { handler as setSmn } from '../../../../../functions/api/v3/batch-set-smn.js';
import { handler as definer } from '../../../../../functions/api/v3/batch-set-definer.js';
import { handler as speed } from '../../../../../functions/api/v3/batch-set-speed.js';
import { handler as modify } from '../../../../../functions/api/v3/batch-update-job.js';
import { handler as updateUser, makeHandler as makeUpdateUser } from '../../../../../functions/api/v3/batch-update-user.js';
import { handler as batchDetail } from '../../../../../functions/api/v3/batch-list-job-details.js';
import type { SourceAccount } from '../../../../../lib/engines/engine.js';
import { handler as clusterConn, makeHandler as makeClusterConn } from '../../../../../functions/api/v3/batch-validate-clusters-connections.js';
import { handler as conn, makeHandler as makeConn } from '../../../../../functions/api/v3/batch-validate-connections.js';
import { makeHandler as makeListUsers, handler as listUsers } from '../../../../../functions/api/v3/list-users.js';
import type { EndpointConfig } from '../../../../../lib/engines/engine.js';
import { jobDeps } from '../../../../../lib/job/deps.js';
import type { Open } from '../../../../../lib/steps/checks.js';
import { secretBox } from '../../../../../lib/secrets/secret-box.js';
import { drain } from '../../../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../../../helpers/local.js';
import { endpointV3, FAKE_PASSWORD, MISSING, results, v3 } from './helpers.js';

type H = (e: never, c: never) => Promise<unknown>;

const account = (id: string, over: Partial<SourceAccount> = {}): SourceAccount => {
  const at = id.lastIndexOf('@');
  return { id, name: at < 0 ? id : id.slice(0, at), ...(at < 0 ? {} : { host: id.slice(at + 1) }), isRole: at < 0, canLogin: at >= 0, transferable: true, privileges: [], roles: [], hashReadable: true, ...over };
};
/** What an engine's listAccounts returns for a small MariaDB. */
const ACCOUNTS: SourceAccount[] = [
  account('app@%', { privileges: ['GRANT SELECT ON `shop`.* TO `app`@`%`'], roles: ['reader'] }),
  account('root@localhost', { transferable: false, reason: 'a system account: every server has its own' }),
  account('ops@%'),
  account('locked@%', { hashReadable: false }),
  account('reader'),
];
let svc: LocalService;
let api: ReturnType<typeof v3>;
beforeAll(async () => {
  svc = await startLocal({ http: false });
  api = v3(svc.cred);
});
afterAll(async () => {
  await drain();
  await svc.stop();
});

/** An engine registry whose engines accept exactly one host:port/user/password, and record what they were given. */
function fakeOpen(accept: { host: string; port: number; user: string; password: string }, seen: EndpointConfig[] = []): Open {
  return ((cfg: EndpointConfig) => {
    seen.push(cfg);
    const ok = cfg.host === accept.host && cfg.port === accept.port && cfg.user === accept.user && cfg.password === accept.password;
    return {
      testConnection: async () => (ok ? { success: true, version: '10.11.6-MariaDB', elapsedMs: 1 } : { success: false, code: 'DRS.KE0002', message: 'The username or password is incorrect.', elapsedMs: 1 }),
      close: async () => undefined,
    };
  }) as unknown as Open;
}

const conn1 = (id: string, type: 'so' | 'ta', over: Record<string, unknown> = {}) => ({ id, net_type: 'eip', end_point_type: type, ...endpointV3({ ip: '10.0.0.5', db_port: 3306, db_user: 'repl', db_password: 'right-password' }), ...over });

describe('batch-connection', () => {
  it('tests one endpoint per item and answers count 2 with success true for both (what Terraform requires)', async () => {
    const id = await api.job();
    const seen: EndpointConfig[] = [];
    const h = makeConn(() => ({ ...jobDeps(), open: fakeOpen({ host: '10.0.0.5', port: 3306, user: 'repl', password: 'right-password' }, seen) }));
    const res = await api.send(h as H, 'POST', '/jobs/batch-connection', { jobs: [conn1(id, 'so'), conn1(id, 'ta')] });
    expect(res).toMatchObject({ status: 200, body: { count: 2, results: [{ id, success: true, status: 'true', error_code: '' }, { id, success: true, status: 'true' }] } });
    expect(seen.map((c) => c.connectTimeoutMs)).toEqual([10_000, 10_000]);
    // the test stores nothing: the job keeps its endpoints until batch-modification saves them
    expect((await api.get(id)).source.host).toBe('127.0.0.1');
  });

  it('reports a refused login as success false with the engine code, HTTP 200', async () => {
    const id = await api.job();
    const h = makeConn(() => ({ ...jobDeps(), open: fakeOpen({ host: '10.0.0.5', port: 3306, user: 'repl', password: 'right-password' }) }));
    const res = await api.send(h as H, 'POST', '/jobs/batch-connection', { jobs: [conn1(id, 'so', { db_password: 'wrong' })] });
    expect(res).toMatchObject({ status: 200, body: { count: 1, results: [{ id, success: false, status: 'false', error_code: 'DRS.KE0002' }] } });
  });

  it('really connects with the engines: a closed port fails within the timeout with a DRS.KE code', async () => {
    const id = await api.job();
    const res = await api.send(conn as H, 'POST', '/jobs/batch-connection', { jobs: [conn1(id, 'ta', { ip: '127.0.0.1', db_port: 1 })] });
    expect(res.status).toBe(200);
    expect(results(res)[0]).toMatchObject({ id, success: false, status: 'false' });
    expect(String(results(res)[0].error_code)).toMatch(/^DRS\.KE\d{4}$/);
  });

  it('fails an unknown job per item (DRS.M00289) and a job being created in the wrong status (DRS.M00304)', async () => {
    const id = await api.job();
    await api.force(id, 'RELEASE_RESOURCE_COMPLETE');
    const h = makeConn(() => ({ ...jobDeps(), open: fakeOpen({ host: '10.0.0.5', port: 3306, user: 'repl', password: 'right-password' }) }));
    const res = await api.send(h as H, 'POST', '/jobs/batch-connection', { jobs: [conn1(MISSING, 'so'), conn1(id, 'so')] });
    expect(res).toMatchObject({ status: 400, body: { results: [{ id: MISSING, success: false, error_code: 'DRS.M00289' }, { id, success: false, error_code: 'DRS.M00304' }] } });
  });

  it.each([
    ['a missing ip', { ip: undefined }, 'ip'],
    ['a string port', { db_port: '3306' }, 'db_port'],
    ['an unknown end_point_type', { end_point_type: 'ls' }, 'end_point_type'],
  ])('refuses %s with 400 naming the field', async (_c, over, field) => {
    const res = await api.send(conn as H, 'POST', '/jobs/batch-connection', { jobs: [conn1(MISSING, 'so', over)] });
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(res.body.error_msg).toContain(field);
  });

  it('cluster mode: endpoints as a JSON string in property, ip may carry the port', async () => {
    const id = await api.job();
    const h = makeClusterConn(() => ({ ...jobDeps(), open: fakeOpen({ host: '10.0.0.5', port: 3306, user: 'repl', password: 'right-password' }) }));
    const prop = (type: string, pw: string) => JSON.stringify([{ dbtype: 'mysql', dbport: 0, ssllink: false, nettype: 'eip', endpointtype: type, ip: '10.0.0.5:3306', dbName: '', dbuser: 'repl', dbpassword: pw }]);
    const res = await api.send(h as H, 'POST', '/jobs/cluster/batch-connection', { jobs: [{ action: 'testConnection', job_id: id, property: prop('so', 'right-password') }, { action: 'testConnection', job_id: id, property: prop('ta', 'nope') }] });
    expect(res).toMatchObject({ status: 200, body: { count: 2, results: [{ id, success: true }, { id, success: false, error_code: 'DRS.KE0002' }] } });
    const bad = await api.send(clusterConn as H, 'POST', '/jobs/cluster/batch-connection', { jobs: [{ action: 'testConnection', job_id: id, property: '{not json' }] });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(bad.body.error_msg).toContain('property');
  });
});

describe('batch-modification', () => {
  it('saves the tested endpoints with store_db_info (Terraform re-update), encrypted, and bumps the configuration', async () => {
    const id = await api.job({ name: 'modify-me' });
    const before = await api.get(id);
    const res = await api.send(modify as H, 'PUT', '/jobs/batch-modification', {
      jobs: [{ job_id: id, name: 'modify-me', net_type: 'eip', engine_type: 'mysql', node_type: 'high', store_db_info: true, is_recreate: false, db_use_type: 'migration', description: 'saved', task_type: 'FULL_TRANS', job_direction: 'up', is_target_readonly: true, replace_definer: false, source_endpoint: endpointV3({ ip: '10.1.1.1', db_port: 3310, db_password: 'new-source-pw' }), target_endpoint: endpointV3({ ip: '10.1.1.2' }) }],
    });
    expect(res).toMatchObject({ status: 200, body: { count: 1, results: [{ id, status: 'success', error_code: '' }] } });
    const after = await api.get(id);
    expect(after).toMatchObject({ description: 'saved', source: { host: '10.1.1.1', port: 3310 }, target: { host: '10.1.1.2' }, policy: { replace_definer: false } });
    expect(after.configVersion).toBe(before.configVersion + 1);
    expect(await secretBox().decrypt(after.source.passwordCipher!)).toBe('new-source-pw');
    expect(await api.snapshot()).not.toContain('new-source-pw');
  });

  it('renames a running job but refuses its endpoints (CONFIGURATION only) and fields fixed at creation', async () => {
    const id = await api.job({ name: 'running-rename' });
    await api.force(id, 'FULL_TRANSFER_STARTED');
    const ok = await api.send(modify as H, 'PUT', '/jobs/batch-modification', { jobs: [{ job_id: id, name: 'running-renamed' }] });
    expect(results(ok)[0]).toMatchObject({ status: 'success' });
    expect((await api.get(id)).name).toBe('running-renamed');
    const before = await api.snapshot();
    const res = await api.send(modify as H, 'PUT', '/jobs/batch-modification', { jobs: [{ job_id: id, store_db_info: true, source_endpoint: endpointV3() }, { job_id: id, task_type: 'INCR_TRANS' }, { job_id: MISSING, name: 'whatever' }] });
    expect(res.status).toBe(400);
    expect(results(res).map((r) => r.error_code)).toEqual(['DRS.M00304', 'DRS.M00202', 'DRS.M00289']);
    expect(String(results(res)[1].error_msg)).toContain('task_type');
    expect(await api.snapshot()).toBe(before);
  });
});

describe('batch-select-objects and batch-transformation', () => {
  it('selects databases and tables (202, all_counts, boolean status) and adds a parsed row filter', async () => {
    const id = await api.job();
    const res = await api.send(selectObjects as H, 'PUT', '/jobs/batch-select-objects', {
      jobs: [{ job_id: id, selected: true, job: [{ id: 'shop', object_type: 'database', object_name: 'shop', object_alias_name: 'shop_copy', select: 'partial' }, { id: 'shop-*-orders', parent_id: 'shop', object_type: 'table', object_name: 'orders', select: 'true' }] }],
    });
    expect(res).toMatchObject({ status: 202, body: { all_counts: 1, results: [{ job_id: id, status: true, error_code: '' }] } });
    expect((await api.get(id)).dbObject).toEqual({ object_scope: 'table', object_info: { shop: { name: 'shop_copy', tables: { orders: { name: 'orders', type: 'table', all: true } } } } });
    const f = await api.send(transformation as H, 'POST', '/jobs/batch-transformation', { jobs: [{ job_id: id, object_info: [{ id: 'shop-*-orders', select: 'true' }], transformation_info: { transformation_type: 'contentConditionalFilter', value: 'id > 10' } }] });
    expect(f).toMatchObject({ status: 200, body: { results: [{ id, status: 'success' }] } });
    const t = (await api.get(id)).dbObject.object_info!.shop.tables!.orders;
    expect(t).toMatchObject({ filtered: true });
    expect(t.filter_conditions![0]).toContain('10');
  });

  it('refuses a hostile filter and a table that is not selected, per item, storing nothing', async () => {
    const id = await api.job();
    await api.send(selectObjects as H, 'PUT', '/jobs/batch-select-objects', { jobs: [{ job_id: id, selected: true, job: [{ object_type: 'table', parent_id: 'shop', object_name: 'orders' }] }] });
    const before = await api.snapshot();
    const res = await api.send(transformation as H, 'POST', '/jobs/batch-transformation', {
      jobs: [
        { job_id: id, object_info: [{ id: 'shop-*-orders' }], transformation_info: { transformation_type: 'contentConditionalFilter', value: '1=1; DROP TABLE x' } },
        { job_id: id, object_info: [{ id: 'shop-*-customers' }], transformation_info: { transformation_type: 'contentConditionalFilter', value: 'id > 1' } },
      ],
    });
    expect(res.status).toBe(400);
    expect(results(res).map((r) => r.error_code)).toEqual(['DRS.M00202', 'DRS.M00202']);
    expect(String(results(res)[0].error_msg)).toContain('filter_conditions');
    expect(String(results(res)[1].error_msg)).toContain('not selected');
    expect(await api.snapshot()).toBe(before);
  });

  it('refuses configConditionalFilter and views with a clear 400', async () => {
    const id = await api.job();
    const cfg = await api.send(transformation as H, 'POST', '/jobs/batch-transformation', { jobs: [{ job_id: id, object_info: [{ id: 'a-*-b' }], transformation_info: { transformation_type: 'configConditionalFilter', value: 'config' } }] });
    expect(cfg).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(cfg.body.error_msg).toContain('not supported');
    const view = await api.send(selectObjects as H, 'PUT', '/jobs/batch-select-objects', { jobs: [{ job_id: id, selected: true, job: [{ object_type: 'view', parent_id: 'shop', object_name: 'v1' }] }] });
    expect(view.status).toBe(400);
    expect(view.body.error_msg).toContain('views');
  });
});

describe('speed limits, definer, policy, notifications, passwords, users', () => {
  it('sets up to 3 UTC windows and refuses a 4th and equal begin/end', async () => {
    const id = await api.job();
    const ok = await api.send(speed as H, 'PUT', '/jobs/batch-limit-speed', { speed_limits: [{ job_id: id, speed_limit: [{ begin: '01:00', end: '05:59', speed: '10', is_utc: true }] }] });
    expect(ok).toMatchObject({ status: 200, body: { count: 1, results: [{ id, status: 'success' }] } });
    expect((await api.get(id)).speedLimits).toEqual([{ begin: '01:00', end: '05:59', speed: 10 }]);
    const four = Array.from({ length: 4 }, (_, i) => ({ begin: `0${i}:00`, end: `0${i}:59`, speed: '1' }));
    const bad = await api.send(speed as H, 'PUT', '/jobs/batch-limit-speed', { speed_limits: [{ job_id: id, speed_limit: four }, { job_id: id, speed_limit: [{ begin: '02:00', end: '02:00', speed: '1' }] }] });
    expect(bad.status).toBe(400);
    expect(results(bad).map((r) => r.error_code)).toEqual(['DRS.M00202', 'DRS.M00202']);
    expect(String(results(bad)[1].error_msg)).toContain('Start time can not same with end time');
  });

  it('stores replace_definer and the sync policy while configuring, refuses them later', async () => {
    const id = await api.job();
    expect(results(await api.send(definer as H, 'POST', '/jobs/batch-replace-definer', { jobs: [{ job_id: id, replace_definer: false }] }))[0]).toMatchObject({ status: 'success' });
    const p = await api.send(policy as H, 'POST', '/jobs/batch-sync-policy', { jobs: [{ job_id: id, conflict_policy: 'ignore', ddl_trans: true, index_trans: false }] });
    expect(p).toMatchObject({ status: 200, body: { results: [{ id, status: 'success' }] } });
    expect((await api.get(id)).policy).toMatchObject({ replace_definer: false, conflict_policy: 'ignore', ddl_trans: true, index_trans: false });
    // what the apply loop does not offer is refused, not stored without effect
    const before = await api.snapshot();
    const unsupported = await api.send(policy as H, 'POST', '/jobs/batch-sync-policy', { jobs: [{ job_id: id, filter_ddl_policy: 'drop_database' }] });
    expect(unsupported).toMatchObject({ status: 400, body: { results: [{ error_code: 'DRS.M00300' }] } });
    expect(String(results(unsupported)[0].error_msg)).toContain('DROP DATABASE');
    expect(await api.snapshot()).toBe(before);
    // skipping DDL is the user's choice on MySQL: CDC then records each skipped statement as abnormal data
    const skip = await api.send(policy as H, 'POST', '/jobs/batch-sync-policy', { jobs: [{ job_id: id, ddl_trans: false }] });
    expect(results(skip)[0]).toMatchObject({ status: 'success' });
    expect((await api.get(id)).policy).toMatchObject({ ddl_trans: false });
    await api.force(id, 'FULL_TRANSFER_STARTED');
    const late = await api.send(policy as H, 'POST', '/jobs/batch-sync-policy', { jobs: [{ job_id: id, conflict_policy: 'stop' }] });
    expect(late).toMatchObject({ status: 400, body: { results: [{ error_code: 'DRS.M00304' }] } });
  });

  it('takes a start position only for INCR_TRANS jobs, and refuses Kafka settings', async () => {
    const incr = await api.job({ task_type: 'INCR_TRANS' });
    const ok = await api.send(policy as H, 'POST', '/jobs/batch-sync-policy', { jobs: [{ job_id: incr, file_and_position: 'mysql-bin.000277:805', gtid_set: '0-1-100' }] });
    expect(results(ok)[0]).toMatchObject({ status: 'success' });
    expect((await api.get(incr)).configuredStartPosition).toEqual({ kind: 'mysql', file: 'mysql-bin.000277', pos: 805, gtid: '0-1-100' });
    const full = await api.job({ task_type: 'FULL_INCR_TRANS' });
    const refused = await api.send(policy as H, 'POST', '/jobs/batch-sync-policy', { jobs: [{ job_id: full, file_and_position: 'mysql-bin.000001:4' }] });
    expect(refused).toMatchObject({ status: 400, body: { results: [{ error_code: 'DRS.M00202' }] } });
    const kafka = await api.send(policy as H, 'POST', '/jobs/batch-sync-policy', { jobs: [{ job_id: full, topic_policy: '0', topic: 't' }] });
    expect(kafka).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(kafka.body.error_msg).toContain('topic_policy');
  });

  it('sets notifications (webhook URL as topic_urn) and refuses SMS/e-mail subscriptions', async () => {
    const id = await api.job();
    const ok = await api.send(setSmn as H, 'POST', '/jobs/batch-set-smn', { jobs: [{ job_id: id, status: 'CONFIGURATION', engine_type: 'mysql' }, { job_id: MISSING, status: 'CONFIGURATION', engine_type: 'mysql' }], alarm_notify_info: { topic_urn: 'https://hooks.example.com/drs', delay_time: 30, alarm_to_user: true } });
    expect(ok.status).toBe(200);
    expect(results(ok).map((r) => r.error_code)).toEqual(['', 'DRS.M00289']);
    expect((await api.get(id)).alarmNotify).toMatchObject({ webhook_url: 'https://hooks.example.com/drs', delay_time: 30, alarm_to_user: true });
    const sms = await api.send(setSmn as H, 'POST', '/jobs/batch-set-smn', { jobs: [{ job_id: id, status: 'CONFIGURATION', engine_type: 'mysql' }], alarm_notify_info: { subscriptions: [{ protocol: 'sms', endpoints: ['+8613800000000'] }] } });
    expect(sms).toMatchObject({ status: 400, body: { error_code: 'DRS.M00300' } });
  });

  it('replaces a password (encrypted) for so and ta in a running job; refuses it for a job being created', async () => {
    const id = await api.job();
    await api.force(id, 'INCRE_TRANSFER_STARTED');
    const res = await api.send(resetPwd as H, 'PUT', '/jobs/batch-modify-pwd', { jobs: [{ job_id: id, end_point_type: 'so', db_password: 'rotated-src' }, { job_id: id, end_point_type: 'ta', db_password: 'rotated-dst' }, { job_id: MISSING, end_point_type: 'so', db_password: 'x' }] });
    expect(res).toMatchObject({ status: 200, body: { count: 3, results: [{ id, status: 'success', end_point_type: 'so' }, { id, status: 'success', end_point_type: 'ta' }, { id: MISSING, status: 'failed', error_code: 'DRS.M00289' }] } });
    const job = await api.get(id);
    expect(await secretBox().decrypt(job.source.passwordCipher!)).toBe('rotated-src');
    expect(await secretBox().decrypt(job.target.passwordCipher!)).toBe('rotated-dst');
    expect(await api.snapshot()).not.toContain('rotated-src');
    await api.force(id, 'RELEASE_RESOURCE_COMPLETE');
    const ended = await api.send(resetPwd as H, 'PUT', '/jobs/batch-modify-pwd', { jobs: [{ job_id: id, end_point_type: 'so', db_password: 'y' }] });
    expect(ended).toMatchObject({ status: 400, body: { results: [{ error_code: 'DRS.M00304' }] } });
  });

  it('lists the source accounts read from the server, with the job selection and never a credential', async () => {
    const id = await api.job();
    const seen: EndpointConfig[] = [];
    const h = makeListUsers(() => ({ ...jobDeps(), accounts: async (cfg) => (seen.push(cfg), ACCOUNTS) }));
    const users = await api.send(h as H, 'GET', '/jobs/{job_id}/get-src-user', undefined, { params: { job_id: id } });
    expect(users).toMatchObject({
      status: 200,
      body: {
        job_id: id,
        is_success: true,
        is_global_password: 'false',
        user_list: [
          { id: 'app@%', account: "'app'@'%'", is_transfer: true, selected: false, password: '', privileges: 'GRANT SELECT ON `shop`.* TO `app`@`%`' },
          { id: 'root@localhost', is_transfer: false, comment: 'a system account: every server has its own' },
          { id: 'ops@%', is_transfer: true },
          { id: 'locked@%', is_transfer: true },
        ],
        roles_list: [{ role: 'reader', is_transfer: true, selected: false }],
      },
    });
    expect(seen[0]).toMatchObject({ host: '127.0.0.1', port: 1, password: FAKE_PASSWORD });
    // the real listing connects for real: an unreachable source is a clear error, an unknown job 404
    const real = await api.send(listUsers as H, 'GET', '/jobs/{job_id}/get-src-user', undefined, { params: { job_id: id } });
    expect(real).toMatchObject({ status: 400, body: { error_code: 'DRS.KE0048' } });
    const missing = await api.send(listUsers as H, 'GET', '/jobs/{job_id}/get-src-user', undefined, { params: { job_id: MISSING } });
    expect(missing).toMatchObject({ status: 404, body: { error_code: 'DRS.M00289' } });
  });

  it('records the accounts and roles to migrate, checked against the source, with passwords encrypted and never returned', async () => {
    const id = await api.job();
    const h = makeUpdateUser(() => ({ ...jobDeps(), accounts: async () => ACCOUNTS }));
    const list = [
      { id: 'app@%', account: "'app'@'%'", is_transfer: true, roles: ['reader'], selected: true },
      { id: 'ops@%', account: "'ops'@'%'", is_transfer: true, roles: [], selected: true, is_set_password: true, password: 'ops-own-secret-1' },
      { id: 'nobody@%', account: "'nobody'@'%'", is_transfer: true, roles: [], selected: false },
    ];
    const res = await api.send(h as H, 'PUT', '/jobs/batch-update-user', { jobs: [{ job_id: id, is_migrate_user: true, is_set_password: true, password: 'unified-secret-9', list, user_roles: [{ role: 'reader', is_transfer: true, privileges: '', selected: true }] }] });
    expect(res).toMatchObject({ status: 200, body: { all_counts: 1, results: [{ job_id: id, is_success: true, message: 'SUCCESS', is_global_password: 'true', user_list: [{ id: 'app@%', selected: true, password: '' }, { id: 'ops@%', selected: true, password: '' }], roles_list: [{ role: 'reader', selected: true }] }] } });
    const job = await api.get(id);
    expect(job.userMigration).toMatchObject({ migrateUsers: true, users: [{ id: 'app@%' }, { id: 'ops@%' }], roles: ['reader'] });
    expect(await secretBox().decrypt(job.userMigration!.passwordCipher!)).toBe('unified-secret-9');
    expect(await secretBox().decrypt(job.userMigration!.users[1]!.passwordCipher!)).toBe('ops-own-secret-1');
    const snap = await api.snapshot();
    expect(snap).not.toContain('unified-secret-9');
    expect(snap).not.toContain('ops-own-secret-1');
    expect(JSON.stringify(res.body)).not.toMatch(/secret-/);
    // the job detail says users are migrated
    const detail = await api.send(batchDetail as H, 'POST', '/jobs/batch-detail', { jobs: [id] });
    expect(results(detail)[0]).toMatchObject({ migrate_user: true });
    // get-src-user now shows the selection
    const listed = await api.send(makeListUsers(() => ({ ...jobDeps(), accounts: async () => ACCOUNTS })) as H, 'GET', '/jobs/{job_id}/get-src-user', undefined, { params: { job_id: id } });
    expect(listed.body).toMatchObject({ is_global_password: 'true', user_list: [{ id: 'app@%', selected: true }, { id: 'root@localhost', selected: false }, { id: 'ops@%', selected: true }, { id: 'locked@%', selected: false }], roles_list: [{ role: 'reader', selected: true }] });
    // "do not migrate users" replaces the selection
    const none = await api.send(h as H, 'PUT', '/jobs/batch-update-user', { jobs: [{ job_id: id, is_set_password: false, is_migrate_user: false }] });
    expect(none).toMatchObject({ status: 200, body: { all_counts: 1, results: [{ job_id: id, is_success: true, user_list: [], roles_list: [] }] } });
    expect((await api.get(id)).userMigration).toEqual({ migrateUsers: false, users: [], roles: [] });
  });

  it.each([
    ['an account the source does not have', { list: [{ id: 'ghost@%', account: "'ghost'@'%'", is_transfer: true, roles: [], selected: true }] }, 'list[0].id'],
    ['a system account', { list: [{ id: 'root@localhost', account: "'root'@'localhost'", is_transfer: false, roles: [], selected: true }] }, 'system account'],
    ['is_set_password without the password', { is_set_password: true, list: [{ id: 'app@%', account: "'app'@'%'", is_transfer: true, roles: [], selected: true }] }, 'password'],
    ['an account whose hash the source user cannot read, without a new password', { list: [{ id: 'locked@%', account: "'locked'@'%'", is_transfer: true, roles: [], selected: true }] }, 'is_set_password'],
    ['nothing selected', { list: [{ id: 'app@%', account: "'app'@'%'", is_transfer: true, roles: [], selected: false }] }, 'select at least one'],
  ])('refuses %s per job (nothing stored)', async (_c, over, text) => {
    const id = await api.job();
    const h = makeUpdateUser(() => ({ ...jobDeps(), accounts: async () => ACCOUNTS }));
    const before = await api.snapshot();
    const res = await api.send(h as H, 'PUT', '/jobs/batch-update-user', { jobs: [{ job_id: id, is_migrate_user: true, is_set_password: false, ...over }] });
    expect(res).toMatchObject({ status: 400, body: { all_counts: 1, results: [{ job_id: id, is_success: false, error_code: 'DRS.M00202' }] } });
    expect(String(results(res)[0].error_msg)).toContain(text);
    expect(await api.snapshot()).toBe(before);
  });

  it('refuses a user selection once the job has started, an unknown job per item, and a malformed item as a whole', async () => {
    const id = await api.job();
    await api.force(id, 'FULL_TRANSFER_STARTED');
    const h = makeUpdateUser(() => ({ ...jobDeps(), accounts: async () => ACCOUNTS }));
    const item = { is_migrate_user: true, is_set_password: false, list: [{ id: 'app@%', account: "'app'@'%'", is_transfer: true, roles: [], selected: true }] };
    const res = await api.send(h as H, 'PUT', '/jobs/batch-update-user', { jobs: [{ job_id: id, ...item }, { job_id: MISSING, ...item }] });
    expect(res).toMatchObject({ status: 400, body: { all_counts: 2, results: [{ job_id: id, is_success: false, error_code: 'DRS.M00304' }, { job_id: MISSING, is_success: false, error_code: 'DRS.M00289' }] } });
    const bad = await api.send(updateUser as H, 'PUT', '/jobs/batch-update-user', { jobs: [{ job_id: id, is_migrate_user: true, is_set_password: false, list: [{ id: 'app@%' }] }] });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
  });

  it('stores replace_definer as the definer policy the schema copy applies (default true)', async () => {
    const id = await api.job();
    const detail = async () => results(await api.send(batchDetail as H, 'POST', '/jobs/batch-detail', { jobs: [id] }))[0];
    expect(await detail()).toMatchObject({ replace_definer: true });
    expect(results(await api.send(definer as H, 'POST', '/jobs/batch-replace-definer', { jobs: [{ job_id: id, replace_definer: false }, { job_id: MISSING, replace_definer: true }] }))).toMatchObject([{ id, status: 'success' }, { id: MISSING, status: 'failed', error_code: 'DRS.M00289' }]);
    expect(await detail()).toMatchObject({ replace_definer: false });
    expect((await api.get(id)).policy.replace_definer).toBe(false);
    await api.force(id, 'FULL_TRANSFER_STARTED');
    const late = await api.send(definer as H, 'POST', '/jobs/batch-replace-definer', { jobs: [{ job_id: id, replace_definer: true }] });
    expect(late).toMatchObject({ status: 400, body: { results: [{ id, status: 'failed', error_code: 'DRS.M00304' }] } });
  });
});
