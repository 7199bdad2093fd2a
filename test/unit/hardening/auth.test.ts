/**
 * Signature and credential edge cases, through the real edge (the in-process HTTP server and the
 * handler modules it serves): every tampered, stale, foreign or ambiguous request is refused with
 * 401 APIGW.0301 before any handler code runs, so the table is unchanged and no workflow starts.
 * The pure signing algorithm (test vectors, canonical forms) is covered in
 * test/unit/auth/signature.test.ts; this file is about what reaches a handler.
 */
import { createHash, createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadHandler } from '../../../lib/local/lambda.js';
import { routes } from '../../../lib/local/routes.js';
import { localWorkflow } from '../../../lib/local/step-functions.js';
import { apiClient } from '../../helpers/client.js';
import type { Cred } from '../../helpers/huawei.js';
import { createJobBody, drain } from '../../helpers/jobs.js';
import { newCredential, ROOT, startLocal, type LocalService } from '../../helpers/local.js';
import { scanTable, sdkDate, send, signHeaders, type WireRequest, type WireResponse } from './wire.js';

let svc: LocalService;
let a: Cred;
let b: Cred;
let jobId: string;
let before: string;

const executions = () => localWorkflow().executions.size;

beforeAll(async () => {
  svc = await startLocal();
  a = svc.cred;
  b = await newCredential();
  const created = await apiClient(svc.url, a).ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'auth-job' }) });
  jobId = created.id as string;
  await drain();
  await apiClient(svc.url, a).until(jobId, (j) => j.status === 'CONFIGURATION');
});
afterAll(async () => {
  await drain();
  await svc?.stop();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A request that would change state if it were accepted: a precheck of A's job (starts a workflow). */
const precheck = (over: Partial<WireRequest> = {}): WireRequest => ({
  method: 'POST',
  path: `/v5/${a.projectId}/jobs/${jobId}/action`,
  body: JSON.stringify({ job: { action_name: 'precheck', action_params: { precheck_mode: 'forStartJob' } } }),
  cred: a,
  ...over,
});

async function refused(r: WireRequest | Promise<WireResponse>, reason?: RegExp): Promise<WireResponse> {
  before = await scanTable();
  const runs = executions();
  const res = 'then' in r ? await r : await send(svc.host, r);
  expect(res.status, res.text).toBe(401);
  expect(res.json).toMatchObject({ error_code: 'APIGW.0301' });
  expect(String(res.json?.error_msg)).toMatch(/^Incorrect IAM authentication information: /);
  if (reason) expect(String(res.json?.error_msg)).toMatch(reason);
  expect(res.headers['x-request-id']).toBeTruthy();
  expect(await scanTable()).toBe(before);
  expect(executions()).toBe(runs);
  return res;
}

/**
 * Signed by a plain reading of spec/auth-signing.md, independent of lib/auth (which refuses to
 * canonicalize a header with CR/LF): what a client that does sign such a header would send.
 */
function naiveSign(method: string, path: string, body: string, headers: Record<string, string>, cred: Cred, date: string): Record<string, string> {
  const all = { ...headers, 'x-sdk-date': date };
  const names = Object.keys(all).sort();
  const sha = (x: string) => createHash('sha256').update(x).digest('hex');
  const canonical = [method, path.endsWith('/') ? path : path + '/', '', names.map((n) => `${n}:${all[n as keyof typeof all].trim()}\n`).join(''), names.join(';'), sha(body)].join('\n');
  const signature = createHmac('sha256', cred.secretKey).update(`SDK-HMAC-SHA256\n${date}\n${sha(canonical)}`).digest('hex');
  return { ...all, authorization: `SDK-HMAC-SHA256 Access=${cred.accessKey}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

describe('the edge accepts what it should (so the refusals below mean something)', () => {
  it('accepts a fresh signature, and query keys in any order (the signature covers them sorted)', async () => {
    const ok = await send(svc.host, { method: 'GET', path: `/v5/${a.projectId}/jobs`, query: 'job_type=migration&limit=5', cred: a });
    expect(ok.status).toBe(200);
    const signedAs = signHeaders({ method: 'GET', path: `/v5/${a.projectId}/jobs`, query: 'job_type=migration&limit=5', headers: { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId } }, a, sdkDate());
    const reordered = await send(svc.host, { method: 'GET', path: `/v5/${a.projectId}/jobs`, query: 'limit=5&job_type=migration', unsigned: true, unsignedHeaders: signedAs, contentType: null });
    expect(reordered.status, reordered.text).toBe(200);
  });
});

describe('refused with 401 APIGW.0301, nothing done', () => {
  it('an X-Sdk-Date 16 minutes old', async () => {
    await refused(precheck({ date: sdkDate(minutes(-16)) }), /15-minute window/);
  });

  it('an X-Sdk-Date 16 minutes in the future', async () => {
    await refused(precheck({ date: sdkDate(minutes(16)) }), /15-minute window/);
  });

  it('a malformed X-Sdk-Date', async () => {
    for (const date of ['2024-01-01T00:00:00Z', '20241301T000000Z', '20240101T000000', 'now', '']) await refused(precheck({ date }), /X-Sdk-Date/);
  });

  it('a request replayed after its window closed', async () => {
    // Prepare: a request signed now, captured exactly as sent
    const path = `/v5/${a.projectId}/connections`;
    const body = JSON.stringify({ name: 'replayed-conn', db_type: 'mysql', endpoint: { ip: '127.0.0.1', db_port: '3306', db_user: 'u', db_password: 'replay-secret' } });
    const captured = signHeaders({ method: 'POST', path, body: Buffer.from(body), headers: { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId } }, a, sdkDate());
    const replay = () => send(svc.host, { method: 'POST', path, body, unsigned: true, unsignedHeaders: captured, contentType: null });
    const first = await replay();
    expect(first.status, first.text).toBe(200);

    // Act: the same bytes, 16 minutes later
    vi.useFakeTimers({ toFake: ['Date'], now: minutes(16) });

    // Assess
    await refused(replay(), /window/);
  });

  it('a body changed after signing', async () => {
    const r = precheck();
    const signed = signHeaders({ method: r.method, path: r.path, body: Buffer.from(r.body as string), headers: { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId } }, a, sdkDate());
    const changed = JSON.stringify({ job: { action_name: 'precheck', action_params: { precheck_mode: 'forRetryJob' } } });
    await refused({ ...r, body: changed, unsigned: true, unsignedHeaders: signed, contentType: null }, /signature does not match/);
    await refused({ ...r, body: (r.body as string) + ' ', unsigned: true, unsignedHeaders: signed, contentType: null }, /signature does not match/);
  });

  it('a path or a query changed after signing, or a query key added twice', async () => {
    const other = await apiClient(svc.url, a).ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'auth-job-2' }) });
    await drain();
    const base = { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId };
    const r = precheck();
    const signed = signHeaders({ method: r.method, path: r.path, body: Buffer.from(r.body as string), headers: base }, a, sdkDate());
    await refused({ ...r, path: r.path.replace(jobId, other.id as string), unsigned: true, unsignedHeaders: signed, contentType: null }, /does not match/);
    await refused({ ...r, query: 'x=1', unsigned: true, unsignedHeaders: signed, contentType: null }, /does not match/);

    const list = { method: 'GET', path: `/v5/${a.projectId}/jobs`, query: 'job_type=migration&limit=5' };
    const listSigned = signHeaders({ ...list, headers: base }, a, sdkDate());
    for (const query of ['job_type=migration&limit=6', 'job_type=migration&limit=5&limit=5', 'job_type=migration&job_type=migration&limit=5', 'job_type=sync&limit=5', 'job_type=migration']) {
      await refused(send(svc.host, { ...list, query, unsigned: true, unsignedHeaders: listSigned, contentType: null }), /does not match/);
    }
  });

  it('a signed header changed after signing (Host, Content-Type)', async () => {
    const r = precheck();
    const signed = signHeaders({ method: r.method, path: r.path, body: Buffer.from(r.body as string), headers: { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId } }, a, sdkDate());
    await refused({ ...r, unsigned: true, unsignedHeaders: { ...signed, host: 'evil.example:443' }, contentType: null }, /does not match/);
    await refused({ ...r, unsigned: true, unsignedHeaders: { ...signed, 'content-type': 'application/json; charset=utf-8' }, contentType: null }, /does not match/);
  });

  it('two Authorization headers, even two identical valid ones', async () => {
    const r = precheck();
    const signed = signHeaders({ method: r.method, path: r.path, body: Buffer.from(r.body as string), headers: { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId } }, a, sdkDate());
    const other = signHeaders({ method: r.method, path: r.path, body: Buffer.from(r.body as string), headers: { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId } }, b, sdkDate());
    await refused({ ...r, unsigned: true, unsignedHeaders: { ...signed, authorization: [signed.authorization, signed.authorization] }, contentType: null });
    await refused({ ...r, unsigned: true, unsignedHeaders: { ...signed, authorization: [other.authorization, signed.authorization] }, contentType: null });
    await refused({ ...r, unsigned: true, unsignedHeaders: { ...signed, authorization: [signed.authorization, other.authorization] }, contentType: null });
  });

  it('an Authorization header with a field given twice or an unknown field', async () => {
    const r = precheck();
    const signed = signHeaders({ method: r.method, path: r.path, body: Buffer.from(r.body as string), headers: { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId } }, a, sdkDate());
    const sig = /Signature=([0-9a-f]{64})/.exec(signed.authorization)![1];
    for (const authorization of [
      `${signed.authorization}, Signature=${'0'.repeat(64)}`,
      `SDK-HMAC-SHA256 Signature=${'0'.repeat(64)}, ${signed.authorization.slice('SDK-HMAC-SHA256 '.length)}`,
      `${signed.authorization}, Access=${b.accessKey}`,
      `${signed.authorization}, Extra=1`,
      signed.authorization.replace(`Signature=${sig}`, `Signature=${sig.toUpperCase()}`),
      signed.authorization.replace('SDK-HMAC-SHA256 ', 'sdk-hmac-sha256 '),
      signed.authorization.replace('SDK-HMAC-SHA256 ', 'V11-HMAC-SHA256 '),
    ]) {
      await refused({ ...r, unsigned: true, unsignedHeaders: { ...signed, authorization }, contentType: null });
    }
  });

  it('CR or LF inside a signed header value, even when the signature covers it', async () => {
    // Through API Gateway (an event, as the function receives it): Node's HTTP client and server
    // would not carry such a header at all.
    const route = routes(ROOT).find((x) => x.routeKey === 'POST /v5/{project_id}/jobs/{job_id}/action')!;
    const handler = await loadHandler(route);
    const r = precheck();
    for (const injected of ['v\r\nx-sdk-date:20240101T000000Z', 'v\nx-evil: 1', 'v\rx', '\r\n']) {
      const headers = naiveSign(r.method, r.path, r.body as string, { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId, 'x-trace': injected }, a, sdkDate());
      const event = {
        version: '2.0', routeKey: route.routeKey, rawPath: r.path, rawQueryString: '', headers, pathParameters: { project_id: a.projectId, job_id: jobId },
        requestContext: { requestId: `crlf-${Math.random()}`, http: { method: 'POST', path: r.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 't' }, routeKey: route.routeKey, stage: '$default' },
        body: r.body, isBase64Encoded: false,
      };
      const out = (async () => {
        const res = (await handler(event, { awsRequestId: 'x', getRemainingTimeInMillis: () => 30_000 })) as { statusCode: number; body: string; headers: Record<string, string> };
        return { status: res.statusCode, headers: res.headers, text: res.body, json: JSON.parse(res.body) } as WireResponse;
      })();
      await refused(out, /control character|CR or LF/i);
    }
  });

  it('CR/LF smuggled on the raw socket is refused by the HTTP parser and the server keeps serving', async () => {
    const [host, port] = svc.host.split(':');
    const raw = await new Promise<string>((resolve) => {
      const s = connect(Number(port), host, () => {
        s.write(`POST /v5/${a.projectId}/jobs/${jobId}/action HTTP/1.1\r\nHost: ${svc.host}\r\nX-Project-Id: ${a.projectId}\rX-Evil: 1\r\nContent-Length: 2\r\n\r\n{}`);
      });
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(out));
      setTimeout(() => s.destroy(), 2000).unref();
    });
    expect(raw).toMatch(/^HTTP\/1\.1 4\d\d/);
    const ok = await send(svc.host, { method: 'GET', path: `/v5/${a.projectId}/jobs`, query: 'job_type=migration', cred: a });
    expect(ok.status).toBe(200);
  });

  it('X-Project-Id not matching the project in the path', async () => {
    const r = precheck();
    const h = signHeaders({ method: r.method, path: r.path, body: Buffer.from(r.body as string), headers: { host: svc.host, 'content-type': 'application/json', 'x-project-id': b.projectId } }, a, sdkDate());
    await refused({ ...r, unsigned: true, unsignedHeaders: h, contentType: null }, /X-Project-Id/);
    // and an X-Project-Id that was not signed at all
    const unsignedPid = signHeaders({ method: r.method, path: r.path, body: Buffer.from(r.body as string), headers: { host: svc.host, 'content-type': 'application/json' } }, a, sdkDate());
    await refused({ ...r, unsigned: true, unsignedHeaders: { ...unsignedPid, 'x-project-id': a.projectId }, contentType: null }, /x-project-id header must be signed/);
  });

  it('an unknown access key, and a known one with the wrong secret, alike', async () => {
    const unknown = await refused(precheck({ cred: { ...a, accessKey: 'NOSUCHAK0000000000' } }), /does not match/);
    const wrong = await refused(precheck({ cred: { ...a, secretKey: 'not-the-secret' } }), /does not match/);
    expect(unknown.json?.error_msg).toBe(wrong.json?.error_msg);
    await refused(precheck({ cred: { ...a, accessKey: 'A'.repeat(5000) } }));
  });

  it("a valid access key of another project, on this project's resources", async () => {
    // B signs correctly, but for A's project in the path.
    await refused(precheck({ cred: { ...b, projectId: a.projectId } }), /not authorized for this project/);
    await refused(send(svc.host, { method: 'DELETE', path: `/v5/${a.projectId}/jobs/${jobId}`, cred: { ...b, projectId: a.projectId } }), /not authorized/);
    await refused(send(svc.host, { method: 'GET', path: `/v5/${a.projectId}/jobs`, query: 'job_type=migration', cred: { ...b, projectId: a.projectId } }), /not authorized/);
  });

  it('an X-Auth-Token issued for another project, an unknown token, and a token beside a bad signature', async () => {
    const issued = await send(svc.host, { method: 'POST', path: '/v3/auth/tokens', body: JSON.stringify({ auth: { scope: { project: { id: b.projectId } } } }), cred: b });
    expect(issued.status, issued.text).toBe(201);
    const tokenB = String(issued.headers['x-subject-token']);
    expect(tokenB).toMatch(/^drs/);
    const r = precheck();
    const tokenOnly = (token: string): WireRequest => ({ ...r, unsigned: true, unsignedHeaders: { host: svc.host, 'content-type': 'application/json', 'x-auth-token': token }, contentType: null });
    await refused(tokenOnly(tokenB), /token/);
    await refused(tokenOnly('drs' + 'x'.repeat(43)), /token/);
    await refused(tokenOnly('x'.repeat(10_000)), /token/);
    // B's token cannot be turned into A's by asking for A's project either.
    await refused(send(svc.host, { method: 'POST', path: '/v3/auth/tokens', body: JSON.stringify({ auth: { scope: { project: { id: a.projectId } } } }), cred: b }), /not authorized/);
    // A valid token does not rescue a bad signature sent with it.
    const bad = signHeaders({ method: r.method, path: r.path, body: Buffer.from('{}'), headers: { host: svc.host, 'content-type': 'application/json', 'x-project-id': a.projectId } }, a, sdkDate());
    const issuedA = await send(svc.host, { method: 'POST', path: '/v3/auth/tokens', body: JSON.stringify({ auth: { scope: { project: { id: a.projectId } } } }), cred: a });
    await refused({ ...r, unsigned: true, unsignedHeaders: { ...bad, 'x-auth-token': String(issuedA.headers['x-subject-token']) }, contentType: null }, /does not match/);
  });

  it('no credentials at all, or an empty Authorization', async () => {
    await refused({ ...precheck(), unsigned: true, cred: undefined });
    await refused({ ...precheck(), unsigned: true, cred: undefined, unsignedHeaders: { authorization: '' } });
  });
});
