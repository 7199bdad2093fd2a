/**
 * Tenant isolation: project B, with its own valid credential, walks EVERY route declared in
 * serverless.yml (read at run time, so new routes are walked too) with project A's ids — in the
 * path, in the body, in batch lists — and can neither read, list, change, act on, clone nor delete
 * anything of A's: 404 (never 403) for a path id, a per-item not-found for a batch list, none of
 * A's names or ids in any answer except echoing the id B sent, A's items byte-for-byte unchanged
 * and no workflow started.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, type Route } from '../../../lib/local/routes.js';
import { localWorkflow } from '../../../lib/local/step-functions.js';
import { jobStore } from '../../../lib/store/job-store.js';
import { apiClient } from '../../helpers/client.js';
import type { Cred } from '../../helpers/huawei.js';
import { createJobBody, drain } from '../../helpers/jobs.js';
import { newCredential, ROOT, startLocal, type LocalService } from '../../helpers/local.js';
import { fillPath, isDrsError, scanItems, send, type WireResponse } from './wire.js';

let svc: LocalService;
let a: Cred;
let b: Cred;
const A: { jobs: string[]; conn: string; names: string[]; precheckQuery?: string } = { jobs: [], conn: '', names: [] };
const B: { job: string; conn: string } = { job: '', conn: '' };
const ALL_ROUTES = routes(ROOT);
const proven: string[] = [];
const validatedOnly: string[] = [];

/** A's distinctive strings: none may appear in an answer to B (ids only where B sent them). */
const SECRET_A = 'tenant-a-password-Zq81';

beforeAll(async () => {
  svc = await startLocal();
  a = svc.cred;
  b = await newCredential();
  const apiA = apiClient(svc.url, a);
  const apiB = apiClient(svc.url, b);
  const conn = await apiA.ok('POST', '/v5/{project_id}/connections', { body: { name: 'tenant-a-conn', db_type: 'mysql', endpoint: { ip: '127.0.0.1', db_port: '3306', db_user: 'alice', db_password: SECRET_A } } });
  A.conn = conn.connection_id as string;
  for (const name of ['tenant-a-config', 'tenant-a-running']) {
    const j = await apiA.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name }) });
    A.jobs.push(j.id as string);
    A.names.push(name);
  }
  await drain();
  // One of A's jobs is running (pause, stop and terminate would all be allowed for A).
  const running = (await jobStore().get(a.projectId, A.jobs[1]))!;
  await jobStore().save({ ...running, status: 'FULL_TRANSFER_STARTED', version: running.version + 1, run: { runId: 'r-a', phase: 'full', startedAt: Date.now() } });
  const pre = await apiA.action(A.jobs[0], 'precheck', { precheck_mode: 'forStartJob' });
  A.precheckQuery = pre.query_id as string;
  await drain();
  const cb = await apiB.ok('POST', '/v5/{project_id}/connections', { body: { name: 'tenant-b-conn', db_type: 'mysql', endpoint: { ip: '127.0.0.1', db_port: '3306', db_user: 'bob', db_password: 'tenant-b-password' } } });
  B.conn = cb.connection_id as string;
  B.job = (await apiB.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'tenant-b-job' }) })).id as string;
  await drain();
});

afterAll(async () => {
  await drain();
  await svc?.stop();
  console.log(`tenant isolation: ${proven.length} route/id combinations answered 404 to project B: ${[...new Set(proven)].join(', ')}`);
  if (validatedOnly.length) console.log(`tenant isolation: refused by validation before any lookup (no 404 to prove, nothing leaked or changed): ${[...new Set(validatedOnly)].join(', ')}`);
});

/** Everything outside project B's own keys. */
async function notB(): Promise<string> {
  const items = await scanItems();
  return JSON.stringify(items.filter((i) => !JSON.stringify([i.pk, i.sk, i.gsi1sk]).includes(b.projectId)));
}

async function asB(method: string, path: string, opts: { query?: string; body?: unknown } = {}): Promise<WireResponse> {
  const before = await notB();
  const runs = localWorkflow().executions.size;
  const res = await send(svc.host, { method, path, query: opts.query, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), cred: b });
  const what = `${method} ${path}${opts.query ? '?' + opts.query : ''} ${opts.body === undefined ? '' : JSON.stringify(opts.body)} → ${res.status} ${res.text.slice(0, 500)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(res.status, `403 tells B the id exists: ${what}`).not.toBe(403);
  for (const s of [SECRET_A, ...A.names, 'tenant-a-conn', 'alice', a.projectId]) expect(res.text, `leaks ${s}: ${what}`).not.toContain(s);
  expect(await notB(), `changed A's items: ${what}`).toBe(before);
  expect(localWorkflow().executions.size, `started a workflow: ${what}`).toBe(runs);
  return res;
}

/** Valid requests for A's resources (as A would send them), keyed by route. */
function validBodies(route: Route): unknown[] {
  const k = route.routeKey;
  const known: Record<string, unknown[]> = {
    'PUT /v5/{project_id}/connections/{connection_id}': [{ description: 'taken over' }, { endpoint: { db_password: 'b-sets-a-password' } }],
    'PUT /v5/{project_id}/jobs/{job_id}': [{ job: { type: 'name', params: { base_info: { name: 'stolen-name' } } } }, { job: { type: 'description', params: { base_info: { description: 'x' } } } }, { job: { type: 'speed_limit', params: { speed_limit: [] } } }],
    'POST /v5/{project_id}/jobs/{job_id}/action': ['network', 'precheck', 'start', 'stop', 'restart', 'reset', 'terminate'].map((action_name) => ({ job: { action_name, action_params: action_name === 'precheck' ? { precheck_mode: 'forStartJob' } : {} } })),
    'POST /v5/{project_id}/jobs/{job_id}/stop': [{ is_force_stop: true }, undefined],
    'PUT /v5/{project_id}/jobs/{job_id}/start-position': [{ file_and_position: 'binlog.000001:4' }],
    'POST /v5/{project_id}/jobs/{job_id}/collect-db-position': [{ reset_position_time: new Date().toISOString() }],
  };
  if (known[k]) return known[k];
  if (route.method === 'GET' || route.method === 'DELETE') return [undefined];
  return [undefined, {}];
}

function validQueries(route: Route): (string | undefined)[] {
  if (route.routeKey === 'GET /v5/{project_id}/jobs/{job_id}') {
    return ['type=detail', 'type=progress', 'type=log', `type=precheck&query_id=${A.precheckQuery}`, 'type=network&query_id=00000000-0000-0000-0000-000000000000'];
  }
  if (route.routeKey === 'GET /v5/{project_id}/jobs/{job_id}/db-position') return ['query_id=00000000-0000-0000-0000-000000000000'];
  return [undefined];
}

/** A's ids for a path parameter name; unknown names get every A id (the route must 404 on each). */
function idsFor(param: string): string[] {
  if (param === 'connection_id') return [A.conn];
  if (/job|resource|instance/.test(param) || param === 'id') return A.jobs;
  return [...A.jobs, A.conn];
}

function combos(route: Route): Record<string, string>[] {
  let out: Record<string, string>[] = [{ project_id: b.projectId }];
  for (const p of route.params.filter((x) => x !== 'project_id')) out = out.flatMap((c) => idsFor(p).map((id) => ({ ...c, [p]: id })));
  return out;
}

describe('project B cannot reach project A through any route', () => {
  it('walks every route that takes an id in the path: 404, nothing changed', async () => {
    const withIds = ALL_ROUTES.filter((r) => r.params.some((p) => p !== 'project_id'));
    expect(withIds.length).toBeGreaterThanOrEqual(8);
    for (const route of withIds) {
      for (const params of combos(route)) {
        const path = fillPath(route.path, params);
        for (const query of validQueries(route)) {
          for (const body of validBodies(route)) {
            const res = await asB(route.method, path, { query, body });
            if (res.status === 404) {
              expect(isDrsError(res.json), `${route.routeKey}: ${res.text}`).toBe(true);
              expect(res.json?.error_code, `${route.routeKey}: a gateway 404 proves nothing`).not.toBe('APIGW.0101');
              proven.push(route.routeKey);
            } else {
              // Refused before any lookup (e.g. this body is not valid for a route added later).
              expect(res.status, `${route.routeKey} with A's ids answered ${res.status}: ${res.text}`).toBe(400);
              validatedOnly.push(route.routeKey);
            }
          }
        }
      }
    }
    // Every known id-taking route must have proven it with a 404.
    for (const key of ['GET /v5/{project_id}/jobs/{job_id}', 'PUT /v5/{project_id}/jobs/{job_id}', 'DELETE /v5/{project_id}/jobs/{job_id}', 'POST /v5/{project_id}/jobs/{job_id}/action', 'POST /v5/{project_id}/jobs/{job_id}/stop', 'GET /v5/{project_id}/jobs/{job_id}/actions', 'GET /v5/{project_id}/connections/{connection_id}', 'PUT /v5/{project_id}/connections/{connection_id}', 'DELETE /v5/{project_id}/connections/{connection_id}']) {
      if (ALL_ROUTES.some((r) => r.routeKey === key)) expect(proven, key).toContain(key);
    }
  });

  it('batch lists of A ids fail per item with not-found, and nothing of A changes', async () => {
    const p = `/v5/${b.projectId}`;
    const perItem = (res: WireResponse, list = 'jobs') => {
      expect(res.status, res.text).toBe(200);
      const items = res.json?.[list] as { id: string; status: string; error_code: string }[];
      expect(items).toHaveLength(A.jobs.length);
      for (const item of items) {
        expect(item.status.toLowerCase()).toBe('failed');
        expect(item.error_code).toBe('DRS.10000010');
      }
    };
    perItem(await asB('DELETE', `${p}/jobs`, { body: { jobs: A.jobs } }));
    perItem(await asB('POST', `${p}/jobs/batch-stop`, { body: { jobs: A.jobs.map((job_id) => ({ job_id, is_force_stop: true })) } }));
    for (const action_name of ['precheck', 'stop', 'terminate', 'network']) {
      perItem(await asB('POST', `${p}/jobs/action`, { body: { jobs: A.jobs.map((job_id) => ({ job_id, action_name, action_params: action_name === 'precheck' ? { precheck_mode: 'forStartJob' } : {} })) } }));
    }
  });

  it("B cannot clone A's job, nor point its own job at A's saved connection", async () => {
    const p = `/v5/${b.projectId}`;
    const clone = await asB('POST', `${p}/jobs/clone`, { body: { job_id: A.jobs[1], name: 'stolen-clone' } });
    expect(clone).toMatchObject({ status: 404, json: { error_code: 'DRS.10000010' } });
    const viaConn = createJobBody({ name: 'uses-a-conn' });
    viaConn.job.source_endpoint[0].endpoint = { id: A.conn } as never;
    const created = await asB('POST', `${p}/jobs`, { body: viaConn });
    expect(created.status, created.text).toBe(400);
    expect(created.json?.error_msg).toContain('does not exist in this project');
    const update = await asB('PUT', `${p}/jobs/${B.job}`, { body: { job: { type: 'endpoint', params: { source_endpoint: [{ db_type: 'mysql', endpoint: { id: A.conn } }] } } } });
    expect(update.status, update.text).toBe(400);
    const net = await asB('POST', `${p}/jobs/${B.job}/action`, { body: { job: { action_name: 'network', action_params: { endpoints: [{ db_type: 'mysql', endpoint_role: 'so', endpoint: { id: A.conn } }] } } } });
    expect(net.status, net.text).toBe(400);
  });

  it("B's listings, filters and name checks see none of A's jobs or connections", async () => {
    const p = `/v5/${b.projectId}`;
    const jobs = await asB('GET', `${p}/jobs`, { query: 'job_type=migration&limit=1000' });
    expect((jobs.json?.jobs as { id: string }[]).map((j) => j.id)).toEqual([B.job]);
    for (const q of [`job_type=migration&name=tenant-a`, `job_type=migration&status=FULL_TRANSFER_STARTED`, `job_type=migration&instance_ids=${A.jobs[0]}`]) {
      expect((await asB('GET', `${p}/jobs`, { query: q })).json?.total_count, q).toBe(0);
    }
    const conns = await asB('GET', `${p}/connections`, { query: 'fetch_all=true' });
    expect((conns.json?.connections as { connection_id: string }[]).map((c) => c.connection_id)).toEqual([B.conn]);
    expect((await asB('GET', `${p}/connections`, { query: `connection_id=${A.conn}` })).json?.count).toBe(0);
    expect((await asB('GET', `${p}/connections`, { query: 'name=tenant-a' })).json?.count).toBe(0);
    // Names are per project: A's job name is free in B and says nothing about A.
    const name = await asB('POST', `${p}/jobs/name-validation`, { body: { name: A.names[0], type: 'trans' } });
    expect(name.json?.is_valid).toBe(true);
    // A's precheck query id means nothing on B's job.
    const pre = await asB('GET', `${p}/jobs/${B.job}`, { query: `type=precheck&query_id=${A.precheckQuery}` });
    expect(pre.status).toBe(400);
  });

  it("every other route, given A's ids in the usual body shapes, changes nothing of A's and leaks nothing", async () => {
    const shapes = (id: string) => [{ jobs: [id] }, { jobs: [{ job_id: id }] }, { jobs: [{ id }] }, { job_id: id }, { id }, { ids: [id] }, { job_ids: [id] }, { connection_id: id }, { jobs: [{ job_id: id, action_name: 'terminate' }] }];
    const bodyRoutes = ALL_ROUTES.filter((r) => r.method !== 'GET' && !r.params.some((p) => p !== 'project_id') && r.path.includes('{project_id}'));
    let tried = 0;
    for (const route of bodyRoutes) {
      for (const id of [...A.jobs, A.conn]) {
        for (const body of shapes(id)) {
          const res = await asB(route.method, fillPath(route.path, { project_id: b.projectId }), { body });
          tried++;
          if (res.status < 300) {
            // A 2xx may only report the id as failed/not found.
            const lists = Object.values(res.json ?? {}).filter(Array.isArray) as Record<string, unknown>[][];
            for (const item of lists.flat().filter((x) => JSON.stringify(x).includes(id))) expect(String(item.error_code ?? ''), `${route.routeKey} ${JSON.stringify(body)} → ${res.text}`).not.toBe('');
          }
        }
      }
    }
    console.log(`tenant isolation: ${tried} requests with A's ids in request bodies over ${bodyRoutes.length} routes`);
    // A's items are still there and as A left them.
    const apiA = apiClient(svc.url, a);
    expect(await apiA.status(A.jobs[0])).toBe('CONFIGURATION');
    expect(await apiA.status(A.jobs[1])).toBe('FULL_TRANSFER_STARTED');
    await apiA.ok('GET', '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: A.conn } });
  });
});
