/**
 * Secrets never leave the secret box. A full job runs against real MariaDB servers with a
 * database user whose password is distinctive (create with a saved connection + a direct
 * endpoint, network test, precheck, start, complete), plus a connection test with a wrong
 * password (the driver's own error text), plus a password rotation. Everything observable is
 * captured and searched for the passwords and the SSL key material:
 *   - every API response (the result of each API function invocation),
 *   - every log line (lib/logger sink),
 *   - every Step Functions execution input and result, every task input, output and thrown error
 *     (lib/local/lambda.ts `invoke`, which runs both, is wrapped with vi.mock),
 *   - and, for good measure, the table (only ciphertexts may be there).
 * Rotation: PUT the connection a job refers to by endpoint.id with the new password; the next
 * connection test uses it without any restart.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localWorkflow } from '../../lib/local/step-functions.js';
import { setLogSink } from '../../lib/logger.js';
import { apiClient } from '../helpers/client.js';
import { requireBinaries, startMariaDb, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn, mysqlDump } from '../helpers/dumps.js';
import { drain } from '../helpers/jobs.js';
import { startLocal, type LocalService } from '../helpers/local.js';
import { routes } from '../../lib/local/routes.js';
import { ROOT } from '../helpers/local.js';
import { fillPath, scanTable, send } from '../unit/hardening/wire.js';

const run = requireBinaries('mysql');
const core = () => randomBytes(12).toString('hex');
/** Each secret has a distinctive core that survives any quoting or escaping of the whole. */
const P1 = { core: core(), get value() { return `S1-${this.core}-'";\\ü$`; } };
const P2 = { core: core(), get value() { return `S2-${this.core}-"\`;--%`; } };
const WRONG = { core: core(), get value() { return `W-${this.core}`; } };
const SSL_KEY = { core: core(), get value() { return Buffer.from(`-----BEGIN PRIVATE KEY-----\nSSLKEY${this.core}\n-----END PRIVATE KEY-----\n`).toString('base64'); } };
const SSL_PW = { core: core(), get value() { return `SP-${this.core}`; } };
const SECRETS = { P1, P2, WRONG, SSL_KEY, SSL_PW };
const USER = 'drs_secret_user';

let src: DbServer;
let dst: DbServer;
let svc: LocalService;
const tap = vi.hoisted(() => [] as { where: string; text: string }[]);
const captured = tap;
const keep = (where: string, v: unknown) => captured.push({ where, text: typeof v === 'string' ? v : safeJson(v) });
let restoreSink: ((l: string) => void) | undefined;

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (x instanceof Error ? { name: x.name, message: x.message, stack: x.stack, cause: String((x as Error & { cause?: unknown }).cause ?? '') } : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

async function addUser(s: DbServer, password: string) {
  const c = await mysqlConn(s);
  await c.query('CREATE USER ?@? IDENTIFIED BY ?', [USER, '%', password]);
  await c.query(`GRANT ALL PRIVILEGES ON *.* TO '${USER}'@'%' WITH GRANT OPTION`);
  await c.end();
}

/**
 * Every function invocation of the local runtime, API and Task alike, goes through
 * lib/local/lambda.ts `invoke`: wrapped here (vi.mock, so nothing in lib/ changes). API calls:
 * the response. Tasks (what Step Functions passes): input, output, and any error thrown.
 */
vi.mock('../../lib/local/lambda.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../lib/local/lambda.js')>();
  const text = (v: unknown) => {
    try {
      return JSON.stringify(v, (_k, x) => (x instanceof Error ? { name: x.name, message: x.message, stack: x.stack, cause: String((x as Error & { cause?: unknown }).cause ?? '') } : x)) ?? String(v);
    } catch {
      return String(v);
    }
  };
  return {
    ...orig,
    invoke: async (def: Parameters<typeof orig.invoke>[0], event: unknown, timeoutMs?: number) => {
      const api = !!(event as { requestContext?: { http?: unknown } })?.requestContext?.http;
      if (!api) tap.push({ where: `task ${def.name} input`, text: text(event) });
      try {
        const out = await orig.invoke(def, event, timeoutMs);
        tap.push({ where: api ? `response ${(event as { rawPath: string }).rawPath}` : `task ${def.name} output`, text: text(out) });
        return out;
      } catch (e) {
        tap.push({ where: `${api ? 'api' : 'task'} ${def.name} error`, text: text(e) });
        throw e;
      }
    },
  };
});

async function captureExecutions(): Promise<void> {
  await drain();
  for (const e of localWorkflow().executions.values()) {
    keep(`execution ${e.id} input`, e.input);
    keep(`execution ${e.id} result`, await e.result.catch((err: unknown) => err));
    keep(`execution ${e.id} error`, e.error ?? '');
  }
}

beforeAll(async () => {
  if (!run) return;
  [src, dst] = await Promise.all([startMariaDb({ serverId: 31 }), startMariaDb({ serverId: 32 })]);
  await Promise.all([addUser(src, P1.value), addUser(dst, P1.value)]);
  const c = await mysqlConn(src);
  await c.query("CREATE DATABASE vault; CREATE TABLE vault.items (id INT PRIMARY KEY, label VARCHAR(40)); INSERT INTO vault.items VALUES (1,'a'),(2,'b'),(3,'c');");
  await c.end();
  process.env.LOG_LEVEL = 'debug';
  restoreSink = setLogSink((line) => keep('log', line));
  svc = await startLocal();
}, 120_000);

afterAll(async () => {
  restoreSink && setLogSink(restoreSink);
  delete process.env.LOG_LEVEL;
  await svc?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

describe.runIf(run)('database passwords and SSL key material stay secret', () => {
  let jobId = '';
  let connId = '';

  it('runs a whole job with a distinctive password, answers the wrong one with the driver error, and rotates a saved connection without a restart', async () => {
    const api = apiClient(svc.url, svc.cred);

    // A saved connection for the source (with SSL material that is stored but not used: ssl_link false).
    const conn = await api.ok('POST', '/v5/{project_id}/connections', {
      body: {
        name: 'secret-src',
        db_type: 'mysql',
        endpoint: { ip: src.host, db_port: String(src.port), db_user: USER, db_password: P1.value },
        ssl: { ssl_link: false, ssl_cert_name: 'client.pem', ssl_cert_key: SSL_KEY.value, ssl_cert_password: SSL_PW.value },
      },
    });
    connId = conn.connection_id as string;
    await api.ok('GET', '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: connId } });
    await api.ok('GET', '/v5/{project_id}/connections', { query: { fetch_all: 'true' } });

    // The job: source by connection id, target direct with the password in the request.
    const created = await api.ok('POST', '/v5/{project_id}/jobs', {
      body: {
        job: {
          base_info: { name: 'secret-job', job_type: 'migration', engine_type: 'mysql', task_type: 'FULL_TRANS', job_direction: 'non-dbs', net_type: 'eip' },
          source_endpoint: [{ db_type: 'mysql', endpoint_type: 'offline', endpoint_role: 'so', endpoint: { id: connId } }],
          target_endpoint: [{ db_type: 'mysql', endpoint_type: 'offline', endpoint_role: 'ta', endpoint: { endpoint_name: 'mysql', ip: dst.host, db_port: String(dst.port), db_user: USER, db_password: P1.value }, ssl: { ssl_link: false, ssl_cert_key: SSL_KEY.value } }],
          node_info: { spec: { node_type: 'high' } },
        },
      },
    });
    jobId = created.id as string;
    await api.until(jobId, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: jobId }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { vault: { all: true } } } } } } });

    const net = await api.action(jobId, 'network');
    const tested = await api.until(jobId, (j) => j.network_results?.length === 2 || !!j.error_msg, 60_000, 'network', { query_id: net.query_id });
    expect(tested.network_results.every((r: { success: boolean }) => r.success), JSON.stringify(tested)).toBe(true);

    const pre = await api.precheck(jobId);
    expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result === 'FAILED'))).toBe(true);
    await api.action(jobId, 'start');
    const done = await api.until(jobId, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 120_000);
    expect(done.status, JSON.stringify(done)).toBe('FULL_TRANSFER_COMPLETE');
    expect(await mysqlDump(dst, 'vault', 'items')).toEqual(await mysqlDump(src, 'vault', 'items'));
    await api.detail(jobId, 'progress');
    await api.detail(jobId, 'log', { limit: '1000' });
    await api.detail(jobId, 'detail');

    // A wrong password: the network test fails with the driver's own message.
    const wrong = await api.action(jobId, 'network', { endpoints: [{ db_type: 'mysql', endpoint_role: 'so', endpoint: { ip: src.host, db_port: String(src.port), db_user: USER, db_password: WRONG.value } }] });
    const failed = await api.until(jobId, (j) => (j.network_results?.length ?? 0) > 0 || !!j.error_msg, 60_000, 'network', { query_id: wrong.query_id });
    const srcResult = failed.network_results?.find((r: { success: boolean }) => !r.success);
    expect(srcResult?.error_msg ?? failed.error_msg, JSON.stringify(failed)).toMatch(/Access denied|password|authentication/i);

    // Rotation: the source user's password changes on the server; the saved connection still has
    // the old one, so the next test fails, until the connection is updated through the API.
    const c = await mysqlConn(src);
    await c.query('ALTER USER ?@? IDENTIFIED BY ?', [USER, '%', P2.value]);
    await c.end();
    const stale = await api.action(jobId, 'network');
    const staleResult = await api.until(jobId, (j) => (j.network_results?.length ?? 0) > 0 || !!j.error_msg, 60_000, 'network', { query_id: stale.query_id });
    expect(staleResult.network_results.find((r: { ip: string; success: boolean }) => !r.success), JSON.stringify(staleResult)).toBeTruthy();

    await api.ok('PUT', '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: connId }, body: { endpoint: { db_password: P2.value } } });
    const fresh = await api.action(jobId, 'network');
    const freshResult = await api.until(jobId, (j) => (j.network_results?.length ?? 0) > 0 || !!j.error_msg, 60_000, 'network', { query_id: fresh.query_id });
    expect(freshResult.network_results.every((r: { success: boolean }) => r.success), JSON.stringify(freshResult)).toBe(true);

    await captureExecutions();
  });

  it('every read route of the API (serverless.yml, v3 and v5) is asked about this job and connection', async () => {
    const reads = routes(ROOT).filter((r) => r.method === 'GET' || (r.method === 'POST' && /batch-(detail|status|progress|precheck-result|get-params|rpo-and-rto|struct-process|struct-detail)|query-compare-result/.test(r.path)));
    const params: Record<string, string> = { project_id: svc.cred.projectId, job_id: jobId, connection_id: connId, compare_job_id: jobId, type: 'migration', compare_type: 'lines' };
    let answered = 0;
    for (const r of reads) {
      const queries = r.routeKey === 'GET /v5/{project_id}/jobs/{job_id}' ? ['overview', 'detail', 'network', 'precheck', 'progress', 'log', 'compare'].map((t) => `type=${t}`) : r.routeKey === 'GET /v5/{project_id}/jobs' ? ['job_type=migration&limit=100'] : [''];
      for (const query of queries) {
        const body = r.method === 'POST' ? JSON.stringify({ jobs: [jobId], job_id: jobId }) : undefined;
        const res = await send(svc.host, { method: r.method, path: fillPath(r.path, params), query, body, cred: svc.cred });
        keep(`response ${r.routeKey} ${query}`, res.text);
        if (res.status < 300) answered++;
      }
    }
    console.log(`secrets: ${reads.length} read routes asked, ${answered} answered 2xx`);
    expect(answered).toBeGreaterThan(5);
  });

  it('no password and no SSL key material appears in any response, log line, task input/output/error or execution', async () => {
    await captureExecutions();
    keep('store (ciphertexts only)', await scanTable());
    const kinds = new Map<string, number>();
    for (const c of captured) kinds.set(c.where.split(' ')[0], (kinds.get(c.where.split(' ')[0]) ?? 0) + 1);
    console.log(`secrets: searched ${captured.length} captured texts (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}) for ${Object.keys(SECRETS).length} secrets`);
    expect(kinds.get('response') ?? 0).toBeGreaterThan(10);
    expect(kinds.get('task') ?? 0).toBeGreaterThan(10);
    expect(kinds.get('log') ?? 0).toBeGreaterThan(10);
    // The capture saw what matters: the driver's refusal text and the user the passwords belong to.
    expect(captured.some((c) => /Access denied/.test(c.text))).toBe(true);
    expect(captured.some((c) => c.text.includes(USER))).toBe(true);
    const leaks: string[] = [];
    for (const [name, s] of Object.entries(SECRETS)) {
      const needles = [s.core, s.value, JSON.stringify(s.value).slice(1, -1)];
      for (const c of captured) if (needles.some((n) => c.text.includes(n))) leaks.push(`${name} in ${c.where}: …${c.text.slice(Math.max(0, c.text.indexOf(s.core) - 200), c.text.indexOf(s.core) + 100)}…`);
    }
    expect(leaks).toEqual([]);
  });
});
