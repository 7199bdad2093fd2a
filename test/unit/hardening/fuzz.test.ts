/**
 * Every route declared in serverless.yml (read at run time, so routes added later are fuzzed
 * too), fed malformed and adversarial requests that are properly SIGNED with a valid credential,
 * so they get past authentication and reach parsing and validation. For each request:
 *   - the answer is a 4xx with a DRS error body {error_code, error_msg} (OMS envelope on /api/),
 *     or, for reads, a 2xx; batch endpoints may answer 2xx only with every item failed;
 *   - never a 5xx, never a dropped connection, always an X-Request-Id;
 *   - the whole table (Scan) is byte-for-byte what it was before;
 *   - nothing in this process's Object.prototype was polluted.
 * What was tried is counted per kind and printed at the end.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, type Route } from '../../../lib/local/routes.js';
import { setLogSink } from '../../../lib/logger.js';
import { apiClient } from '../../helpers/client.js';
import { createJobBody, drain } from '../../helpers/jobs.js';
import { ROOT, startLocal, type LocalService } from '../../helpers/local.js';
import { fillPath, isDrsError, isOmsError, scanTable, send, type WireRequest, type WireResponse } from './wire.js';

let svc: LocalService;
let baseline: string;
const ids: Record<string, string> = {};
const logs: string[] = [];
let restoreSink: ((line: string) => void) | undefined;
const tried = new Map<string, number>();
const count = (kind: string) => tried.set(kind, (tried.get(kind) ?? 0) + 1);

const ALL_ROUTES = routes(ROOT);
/** About this many generated requests in all, spread over the routes (keeps the suite near a minute). */
const BUDGET = Number(process.env.FUZZ_BUDGET ?? 3000);
const RUNS = Math.max(20, Math.floor(BUDGET / Math.max(1, ALL_ROUTES.length)));

beforeAll(async () => {
  restoreSink = setLogSink((line) => {
    if (logs.length < 20_000) logs.push(line);
  });
  svc = await startLocal();
  const api = apiClient(svc.url, svc.cred);
  const conn = await api.ok('POST', '/v5/{project_id}/connections', {
    body: { name: 'fuzz-conn', db_type: 'mysql', endpoint: { ip: '127.0.0.1', db_port: '3306', db_user: 'u', db_password: 'fuzz-password-1' } },
  });
  ids.connection_id = conn.connection_id as string;
  const job = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'fuzz-job' }) });
  ids.job_id = job.id as string;
  await drain();
  await api.until(ids.job_id, (j) => j.status === 'CONFIGURATION');
  baseline = await scanTable();
});

afterAll(async () => {
  restoreSink && setLogSink(restoreSink);
  await drain();
  await svc?.stop();
  const lines = [...tried.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${String(n).padStart(6)}  ${k}`);
  const total = [...tried.values()].reduce((a, b) => a + b, 0);
  console.log(`fuzzer: ${total} signed requests over ${ALL_ROUTES.length} routes (${RUNS} generated runs per route), by kind:\n${lines.join('\n')}`);
});

// --- what is sent -----------------------------------------------------------------------------

const MISSING_ID = '00000000-0000-4000-8000-000000000000';
const HUGE = 'a'.repeat(70_000);

/** Path parameter values that must never reach anything but a 4xx. */
const HOSTILE_SEGMENTS = [
  '..', '.', '../', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f', '%00', 'a%00b', '%', '%zz', '%E0%A4%A', "'", '%22', "a' OR '1'='1",
  '%27%3B%20DROP%20TABLE%20x%3B--', '%C3%BC', '%F0%9F%98%80', '%E2%80%AE', '%EF%BB%BF', 'x'.repeat(65), 'x'.repeat(5000), '%20',
  '__proto__', 'constructor', '%5B%5D', '%7B%7D', '*', '$', 'a;b', 'a%0D%0Ab', '%ED%A0%80', '%C0%AF',
];

const hostileStrings = fc.constantFrom(
  '', ' ', '../', '..\\..\\', '\u0000', "'", '"', '`', "' OR '1'='1", '1=1; DROP TABLE x', '-- ', '/*', '*/', 'ü', '😀', '\u202e',
  '\ud800', '\uffff', '__proto__', 'constructor', '{{7*7}}', '${jndi:ldap://x}', '%s%n', '\r\nX-Evil: 1', HUGE, 'x'.repeat(300),
);
const oddNumbers = fc.constantFrom(-1, -1.5, 0, 1e300, -1e300, 2 ** 53 + 1, -(2 ** 63), 1e-300, 4294967296, 65536);

/** Any JSON value, weighted towards the shapes our schemas expect, with hostile leaves and keys. */
const junkJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileStrings,
    oddNumbers,
    fc.constantFrom(null, true, false),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.oneof(hostileStrings.filter((s) => s.length < 100), fc.constantFrom('job', 'jobs', 'job_id', 'name', 'endpoint', 'body', 'auth', 'type', 'params', 'action_name')), tie('value'), { maxKeys: 6 }),
  ),
})).value;

function deep(levels: number, open: string, close: string, inner = '1'): string {
  return open.repeat(levels) + inner + close.repeat(levels);
}

const BAD_BYTES: [string, Buffer][] = [
  ['invalid-utf8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
  ['overlong-utf8', Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])],
  ['lone-continuation', Buffer.from([0x80, 0x80, 0x80])],
  ['truncated-utf8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82])],
  ['utf16-body', Buffer.from('\ufeff{"job":{}}', 'utf16le')],
  ['nul-bytes', Buffer.from('{"job":\u0000{}}')],
  ['invalid-json', Buffer.from('{"job":')],
  ['single-quotes-json', Buffer.from("{'job':{}}")],
  ['trailing-comma', Buffer.from('{"jobs":["a",]}')],
  ['two-documents', Buffer.from('{"a":1}{"b":2}')],
  ['nan', Buffer.from('{"limit":NaN}')],
  ['bom-json', Buffer.from('\ufeff{}')],
  ['deep-array-10000', Buffer.from(deep(10_000, '[', ']'))],
  ['deep-object-10000', Buffer.from(deep(10_000, '{"a":', '}'))],
  ['deep-mixed-10000', Buffer.from(deep(5_000, '{"job":[', ']}'))],
  ['huge-array', Buffer.from(JSON.stringify({ jobs: Array.from({ length: 100_000 }, () => 'x') }))],
  ['huge-string', Buffer.from(JSON.stringify({ name: 'n'.repeat(900_000) }))],
  ['many-keys', Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))))],
  ['duplicate-keys', Buffer.from('{"job":{"action_name":"start"},"job":{"action_name":"precheck"}}')],
  ['proto-key', Buffer.from('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}')],
  ['json-scalar', Buffer.from('"just a string"')],
  ['json-null', Buffer.from('null')],
  ['json-number', Buffer.from('1e999')],
];

const WRONG_CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/xml', 'json', '', 'application/json-patch+json'];

/** Percent-encode; a lone surrogate (not encodable) goes on the wire as the bytes of one. */
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.replace(/[\ud800-\udfff]/g, '%ED%A0%80');
  }
};
/** Node refuses to send spaces and non-ASCII in a request path: send them percent-encoded. */
const wireSafe = (seg: string) => seg.replace(/[^\x21-\x7e]/g, (c) => enc(c));

const hostileQuery = fc.oneof(
  fc.constantFrom(
    'limit=0', 'limit=-1', 'limit=1001', 'limit=1e9', 'limit=abc', 'limit=1.5', 'limit=99999999999999999999999', 'limit=', 'offset=-1',
    'offset=1e309', 'offset=1000001', 'limit=1&limit=2', 'offset=0&offset=0', 'job_type=migration&job_type=sync', 'type=detail&type=log',
    '__proto__=x', 'constructor=x', 'prototype=1', 'toString=1', 'valueOf=1&hasOwnProperty=2', 'job_type=migration&toString=x', '%zz=1', 'a=%E0%A4%A', 'name=%00', 'name=' + 'x'.repeat(5000), 'sort_key=password',
    'sort_dir=sideways', 'status=NOT_A_STATUS', 'status=' + 'CREATING,'.repeat(100), 'unknown_param=1', 'job_type=migration&limit=0',
    'job_type=migration&offset=-5', 'type=network&query_id=..%2F', 'type=compare', 'type=%27', 'create_time=-1', 'fetch_all=maybe',
    'instance_ids=' + Array.from({ length: 20 }, (_, i) => `i${i}`).join('&instance_ids='), 'db_type=oracle%27--', '=', '&&&', 'a&a&a',
  ),
  fc.array(fc.tuple(fc.oneof(hostileStrings.filter((s) => s.length < 100), fc.constantFrom('limit', 'offset', 'type', 'job_type', 'name', 'status')), fc.oneof(hostileStrings.filter((s) => s.length < 100), oddNumbers.map(String))), { minLength: 1, maxLength: 5 }).map((pairs) =>
    pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&'),
  ),
);

// --- templates: minimal valid requests of known routes, mutated into invalid ones ---------------

interface Template {
  body?: unknown;
  query?: Record<string, string>;
  /** Path ids: the real fixtures (reach the handler's own checks) or ids that do not exist. */
  ids: 'real' | 'missing';
  /** Every key is required, so deleting one must be refused. */
  allRequired: boolean;
  /** Unknown keys are refused (zod .strict()). */
  strict: boolean;
}

const TEMPLATES: Record<string, Template> = {
  'POST /v5/{project_id}/connections': { body: { name: 'conn-x1', db_type: 'mysql', endpoint: { ip: '127.0.0.1', db_port: '3306', db_user: 'u', db_password: 'p' } }, ids: 'missing', allRequired: true, strict: true },
  'PUT /v5/{project_id}/connections/{connection_id}': { body: { description: 'd' }, ids: 'real', allRequired: false, strict: true },
  'GET /v5/{project_id}/connections': { query: { limit: '10' }, ids: 'real', allRequired: false, strict: true },
  'POST /v5/{project_id}/jobs': {
    body: { job: { base_info: { name: 'job-x1', job_type: 'migration', engine_type: 'mysql' }, source_endpoint: [{ db_type: 'mysql', endpoint: {} }], target_endpoint: [{ db_type: 'mysql', endpoint: {} }] } },
    ids: 'missing',
    allRequired: true,
    strict: true,
  },
  'GET /v5/{project_id}/jobs': { query: { job_type: 'migration', limit: '10' }, ids: 'real', allRequired: false, strict: true },
  'GET /v5/{project_id}/jobs/{job_id}': { query: { type: 'detail', limit: '10' }, ids: 'real', allRequired: false, strict: true },
  'PUT /v5/{project_id}/jobs/{job_id}': { body: { job: { type: 'description', params: { base_info: { description: 'd' } } } }, ids: 'real', allRequired: true, strict: true },
  'DELETE /v5/{project_id}/jobs': { body: { jobs: [MISSING_ID] }, ids: 'missing', allRequired: true, strict: true },
  'POST /v5/{project_id}/jobs/clone': { body: { job_id: MISSING_ID, name: 'clone-x1' }, ids: 'missing', allRequired: true, strict: true },
  'POST /v5/{project_id}/jobs/name-validation': { body: { name: 'name-x1', type: 'trans' }, ids: 'missing', allRequired: true, strict: true },
  'POST /v5/{project_id}/jobs/{job_id}/action': { body: { job: { action_name: 'precheck', action_params: { precheck_mode: 'forStartJob' } } }, ids: 'real', allRequired: true, strict: true },
  'POST /v5/{project_id}/jobs/action': { body: { jobs: [{ job_id: MISSING_ID, action_name: 'precheck', action_params: { precheck_mode: 'forStartJob' } }] }, ids: 'missing', allRequired: true, strict: true },
  'POST /v5/{project_id}/jobs/{job_id}/stop': { body: { is_force_stop: false }, ids: 'missing', allRequired: false, strict: true },
  'POST /v5/{project_id}/jobs/batch-stop': { body: { jobs: [{ job_id: MISSING_ID }] }, ids: 'missing', allRequired: true, strict: true },
  'POST /v3/{project_id}/jobs/batch-status': { body: { jobs: [MISSING_ID] }, ids: 'missing', allRequired: true, strict: true },
  'POST /v3/{project_id}/jobs/batch-detail': { body: { jobs: [MISSING_ID] }, ids: 'missing', allRequired: true, strict: true },
  'POST /v3/{project_id}/jobs/batch-progress': { body: { jobs: [MISSING_ID] }, ids: 'missing', allRequired: true, strict: true },
  'POST /v3/{project_id}/jobs/batch-pause-task': { body: { jobs: [{ job_id: MISSING_ID }] }, ids: 'missing', allRequired: true, strict: true },
  'POST /v3/{project_id}/jobs/batch-retry-task': { body: { jobs: [{ job_id: MISSING_ID }] }, ids: 'missing', allRequired: true, strict: true },
  'POST /v3/{project_id}/jobs/batch-starting': { body: { jobs: [{ job_id: MISSING_ID }] }, ids: 'missing', allRequired: true, strict: true },
  'DELETE /v3/{project_id}/jobs/batch-jobs': { body: { jobs: [{ delete_type: 'terminate', job_id: MISSING_ID }] }, ids: 'missing', allRequired: true, strict: true },
  'PUT /v3/{project_id}/jobs/batch-modify-pwd': { body: { jobs: [{ db_password: 'p', end_point_type: 'so', job_id: MISSING_ID }] }, ids: 'missing', allRequired: true, strict: true },
  'PUT /v3/{project_id}/jobs/batch-limit-speed': { body: { speed_limits: [{ job_id: MISSING_ID, speed_limit: [] }] }, ids: 'missing', allRequired: true, strict: true },
  // IAM-shaped: real token requests carry auth.identity too, so unknown keys are accepted here.
  'POST /v3/auth/tokens': { body: { auth: { scope: { project: { id: 'PROJECT' } } } }, ids: 'missing', allRequired: true, strict: false },
};

type Path = (string | number)[];

function nodes(v: unknown, path: Path = [], out: { path: Path; value: unknown }[] = []) {
  out.push({ path, value: v });
  if (Array.isArray(v)) v.forEach((x, i) => nodes(x, [...path, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) nodes(x, [...path, k], out);
  return out;
}

function setAt(root: unknown, path: Path, f: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = structuredClone(root);
  if (!path.length) return copy;
  let cur = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  f(cur, path[path.length - 1]);
  return copy;
}

/** Values no field of that JSON type accepts (strings accept no object, objects no string, ...). */
function wrongTypesFor(v: unknown): unknown[] {
  if (typeof v === 'string') return [null, -1.5, 1e300, {}, [], true];
  if (typeof v === 'boolean') return [null, 'maybe', 2, {}, []];
  if (typeof v === 'number') return [null, 'abc', -1.5, 1e300, {}, []];
  if (Array.isArray(v)) return [null, 'str', -1.5, {}, true];
  return [null, 'str', -1.5, [], true];
}

interface Mutation {
  kind: string;
  body: unknown;
  /** The name the error message must mention. */
  names: string[];
}

function mutationsOf(t: Template): fc.Arbitrary<Mutation> {
  const all = nodes(t.body);
  const keyName = (p: Path) => [...p].reverse().find((x) => typeof x === 'string') as string | undefined;
  const choices: fc.Arbitrary<Mutation>[] = [];
  const leafs = all.filter((n) => n.path.length > 0);
  if (leafs.length) {
    choices.push(
      fc.constantFrom(...leafs).chain((n) =>
        fc.constantFrom(...wrongTypesFor(n.value)).map((w) => ({ kind: 'body: wrong type', body: setAt(t.body, n.path, (p, k) => (p[k] = w)), names: [keyName(n.path) ?? 'body'] })),
      ),
    );
    const strings = leafs.filter((n) => typeof n.value === 'string');
    if (strings.length) {
      choices.push(fc.constantFrom(...strings).map((n) => ({ kind: 'body: huge string', body: setAt(t.body, n.path, (p, k) => (p[k] = HUGE)), names: [keyName(n.path) ?? 'body'] })));
    }
    choices.push(
      // Refused at the edge before any schema sees it, so the message names the nesting, not the field.
      fc.constantFrom(...leafs).map((n) => ({ kind: 'body: 10,000-level nesting in a field', body: setAt(t.body, n.path, (p, k) => (p[k] = '__DEEP__')), names: ['nests deeper than'] })),
    );
  }
  const arrays = all.filter((n) => Array.isArray(n.value) && n.path.length);
  if (arrays.length) {
    choices.push(
      fc.constantFrom(...arrays).map((n) => ({
        kind: 'body: huge array',
        body: setAt(t.body, n.path, (p, k) => (p[k] = Array.from({ length: 5000 }, () => (n.value as unknown[])[0]))),
        names: [keyName(n.path) ?? 'body'],
      })),
      fc.constantFrom(...arrays).map((n) => ({ kind: 'body: empty array', body: setAt(t.body, n.path, (p, k) => (p[k] = [])), names: [keyName(n.path) ?? 'body'] })),
    );
  }
  const objects = all.filter((n) => n.value && typeof n.value === 'object' && !Array.isArray(n.value));
  if (t.strict && objects.length) {
    choices.push(
      fc.constantFrom(...objects).chain((n) =>
        fc.constantFrom('zz_extra', '__proto__', 'constructor', 'password').map((key) => ({
          kind: `body: extra field ${key}`,
          body: n.path.length
            ? setAt(t.body, n.path, (p, k) => Object.defineProperty(p[k] as object, key, { value: { polluted: 'yes' }, enumerable: true }))
            : Object.defineProperty(structuredClone(t.body) as object, key, { value: { polluted: 'yes' }, enumerable: true }),
          names: [key === '__proto__' || key === 'constructor' ? '' : key],
        })),
      ),
    );
  }
  if (t.allRequired) {
    const keyed = leafs.filter((n) => typeof n.path[n.path.length - 1] === 'string');
    if (keyed.length) choices.push(fc.constantFrom(...keyed).map((n) => ({ kind: 'body: missing field', body: setAt(t.body, n.path, (p, k) => delete p[k]), names: [keyName(n.path)!] })));
  }
  return fc.oneof(...choices);
}

/** JSON text, with the '__DEEP__' marker replaced by 10,000 nested arrays. */
const bodyText = (v: unknown) => JSON.stringify(v).replace('"__DEEP__"', deep(10_000, '[', ']'));

// --- checks ---------------------------------------------------------------------------------------

function describeReq(r: WireRequest): string {
  const b = r.body === undefined ? '' : Buffer.isBuffer(r.body) ? `<${r.body.length} bytes>` : r.body.length > 300 ? r.body.slice(0, 300) + `…(${r.body.length})` : r.body;
  return `${r.method} ${r.path.slice(0, 200)}${r.query ? '?' + r.query.slice(0, 200) : ''} [${r.contentType ?? 'application/json'}] ${b}`;
}

/** A 2xx is allowed for reads, and for batch calls whose every item failed. */
function acceptable2xx(route: Route, res: WireResponse): boolean {
  if (route.method === 'GET') return true;
  const lists = Object.values(res.json ?? {}).filter(Array.isArray) as unknown[][];
  if (route.routeKey.endsWith('/name-validation')) return res.json?.is_valid === false;
  // Per-item failures: v5 `error_code`/`error_msg`, v3 batch-status `error_message`.
  const failed = (x: unknown) => {
    const i = x as { error_code?: unknown; error_msg?: unknown; error_message?: unknown };
    return typeof i?.error_code === 'string' && i.error_code !== '' && (typeof i.error_msg === 'string' || typeof i.error_message === 'string');
  };
  return lists.length > 0 && lists.every((l) => l.length > 0 && l.every(failed));
}

async function check(route: Route, r: WireRequest, kind: string, names: string[] = []): Promise<void> {
  count(kind);
  const res = await send(svc.host, r);
  const what = `${route.routeKey} (${kind}): ${describeReq(r)} → ${res.status} ${res.text.slice(0, 400)}`;
  expect(res.status, what).toBeGreaterThanOrEqual(200);
  expect(res.status, what).toBeLessThan(500);
  expect(res.headers['x-request-id'], what).toBeTruthy();
  if (res.status >= 300) {
    const oms = r.path.startsWith('/api/');
    expect(oms ? isOmsError(res.json) : isDrsError(res.json), what).toBe(true);
    const msg = String(oms ? res.json?.message : res.json?.error_msg);
    // A validation error names the field; a mutation that happens to stay valid is refused for the missing id instead.
    if (res.status === 400 && !/does not exist/.test(msg)) for (const n of names.filter(Boolean)) expect(msg, what).toContain(n);
  } else {
    expect(acceptable2xx(route, res), `accepted a malformed request: ${what}`).toBe(true);
  }
  expect(({} as Record<string, unknown>).polluted, what).toBeUndefined();
  const after = await scanTable();
  if (after !== baseline) expect.fail(`the store changed after a refused request: ${what}`);
}

function pathFor(route: Route, which: 'real' | 'missing', over: Record<string, string> = {}, encode = true): string {
  const params: Record<string, string> = { project_id: svc.cred.projectId };
  for (const p of route.params) if (p !== 'project_id') params[p] = which === 'real' ? (ids[p] ?? MISSING_ID) : MISSING_ID;
  return fillPath(route.path, { ...params, ...over }, encode);
}

const hasBody = (r: Route) => r.method !== 'GET';
const emptyBodyFor = (r: Route) => (hasBody(r) ? '{}' : undefined);

// --- the properties -------------------------------------------------------------------------------

describe('every route refuses malformed, signed requests cleanly', () => {
  it('enumerates the routes from serverless.yml', () => {
    expect(ALL_ROUTES.length).toBeGreaterThanOrEqual(15);
    const untemplated = ALL_ROUTES.filter((r) => !TEMPLATES[r.routeKey] && (r.method !== 'GET' || r.params.length > 1));
    if (untemplated.length) console.log(`fuzzer: routes fuzzed generically only (no valid template to mutate): ${untemplated.map((r) => r.routeKey).join(', ')}`);
  });

  describe.each(ALL_ROUTES.map((r) => [r.routeKey, r] as const))('%s', (_key, route) => {
    it('refuses hostile path parameters', async () => {
      const params = route.params.length > 1 ? route.params.filter((p) => p !== 'project_id') : ['project_id'];
      for (const p of params) {
        for (const seg of HOSTILE_SEGMENTS) {
          await check(route, { method: route.method, path: pathFor(route, 'real', { [p]: wireSafe(seg) }, false), body: emptyBodyFor(route), cred: svc.cred }, `path: hostile {${p}}`);
        }
      }
    });

    it('refuses bodies that are not clean JSON, and wrong content types', async () => {
      for (const [name, bytes] of BAD_BYTES) {
        await check(route, { method: route.method, path: pathFor(route, 'missing'), body: bytes, cred: svc.cred }, `body: ${name}`);
      }
      for (const ct of WRONG_CONTENT_TYPES) {
        await check(route, { method: route.method, path: pathFor(route, 'missing'), body: '{}', cred: svc.cred, contentType: ct || null }, 'content-type: wrong');
      }
    });

    it('refuses a body over the size limit with a clear 413', async () => {
      const over = `{"pad":"${'x'.repeat(1_048_576)}"}`;
      count('body: over the 1 MiB limit');
      const res = await send(svc.host, { method: route.method, path: pathFor(route, 'missing'), body: over, cred: svc.cred });
      expect(res.status).toBe(413);
      expect(res.json?.error_msg).toMatch(/exceeds 1048576 bytes/);
      expect(await scanTable()).toBe(baseline);
    });

    it('refuses random junk JSON bodies and hostile query strings', async () => {
      await fc.assert(
        fc.asyncProperty(junkJson, fc.option(hostileQuery, { nil: undefined }), fc.boolean(), async (body, query, realIds) => {
          // A real id only where nothing could be changed by a junk body (reads).
          const which = realIds && route.method === 'GET' ? 'real' : 'missing';
          const text = body === undefined ? undefined : JSON.stringify(body);
          await check(route, { method: route.method, path: pathFor(route, which), query, body: text, cred: svc.cred }, query ? 'query: hostile + junk body' : 'body: random junk JSON');
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    });

    const template = TEMPLATES[route.routeKey];
    // Only routes with a valid template get the mutation tests (the others are fuzzed generically above).
    if (template?.body) it('refuses every single-field mutation of a valid body, naming the field', async () => {
      await fc.assert(
        fc.asyncProperty(mutationsOf(template!), async (m) => {
          const text = bodyText(m.body).replaceAll('"PROJECT"', JSON.stringify(svc.cred.projectId));
          await check(route, { method: route.method, path: pathFor(route, template!.ids), body: text, query: template!.query ? new URLSearchParams(template!.query).toString() : undefined, cred: svc.cred }, m.kind, m.names);
        }),
        { numRuns: RUNS },
      );
    });

    if (template?.query) it('refuses every single-parameter mutation of a valid query, naming the parameter', async () => {
      const q = template!.query!;
      const keys = Object.keys(q);
      const mutation = fc.oneof(
        fc.tuple(fc.constantFrom(...keys), fc.constantFrom('0', '-1', '1001', '1e9', 'abc', '1.5', '', 'x'.repeat(600), '%00', "'", '99999999999999999999')).map(([k, v]) => ({ kind: 'query: bad value', query: { ...q, [k]: v }, name: k, dup: false })),
        fc.constantFrom(...keys).map((k) => ({ kind: 'query: duplicate key', query: q, name: k, dup: true })),
        fc.constantFrom('zz_unknown', 'password', 'sort_key').map((k) => ({ kind: 'query: unknown or bad key', query: { ...q, [k]: 'zz' }, name: k, dup: false })),
      );
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const raw = new URLSearchParams(m.query).toString().replace(/\+/g, '%20') + (m.dup ? `&${m.name}=${encodeURIComponent(q[m.name])}` : '');
          // Some bad values are fine for some keys (limit=1.5 is not, type=abc is not, ...): a 2xx read is allowed, a 4xx must name the key.
          await check(route, { method: route.method, path: pathFor(route, template!.ids), query: raw, body: template!.body === undefined ? undefined : JSON.stringify(template!.body), cred: svc.cred }, m.kind, [m.name]);
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    });
  });

  it('the gateway refuses a body over API Gateway\'s 10 MiB before any function runs', async () => {
    for (const route of [ALL_ROUTES.find((r) => r.method === 'POST')!, ALL_ROUTES.find((r) => r.method === 'GET')!]) {
      count('body: over the gateway 10 MiB limit');
      const giant = await send(svc.host, { method: route.method, path: pathFor(route, 'missing'), body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20), cred: svc.cred });
      expect(giant.status).toBe(413);
      expect(isDrsError(giant.json)).toBe(true);
    }
    expect(await scanTable()).toBe(baseline);
  });

  it('caps page sizes with a clear error on every listing', async () => {
    const lists = ALL_ROUTES.filter((r) => r.method === 'GET');
    let checked = 0;
    for (const route of lists) {
      const base = TEMPLATES[route.routeKey]?.query ?? {};
      const res = await send(svc.host, { method: 'GET', path: pathFor(route, 'real'), query: new URLSearchParams({ ...base, limit: '1001' }).toString(), cred: svc.cred });
      count('query: page size over the cap');
      expect(res.status, `${route.routeKey} limit=1001 → ${res.status} ${res.text}`).toBeLessThan(500);
      if (res.status === 400 && /limit/.test(String(res.json?.error_msg))) checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it('logged no server error while being fuzzed', () => {
    const errors = logs.filter((l) => l.includes('"level":"error"'));
    expect(errors.slice(0, 5)).toEqual([]);
  });
});

describe('well-formed requests carrying more than the store can hold are refused, not crashed on', () => {
  const nested = (levels: number) => JSON.parse(deep(levels, '{"a":', '}')) as unknown;
  const routeOf = (key: string) => ALL_ROUTES.find((r) => r.routeKey === key);
  const cases: [string, string, () => unknown][] = [
    ['create a job with 40-level nesting in a free-form field', 'POST /v5/{project_id}/jobs', () => ({ job: { ...(TEMPLATES['POST /v5/{project_id}/jobs'].body as { job: object }).job, node_info: { spec: { node_type: 'high' }, vpc: { x: nested(40) } } } })],
    ['create a job with 5,000-level nesting in a free-form field', 'POST /v5/{project_id}/jobs', () => ({ job: { ...(TEMPLATES['POST /v5/{project_id}/jobs'].body as { job: object }).job, node_info: { spec: { node_type: 'high' }, vpc: { x: '__DEEP__' } } } })],
    ['create a job with 900 kB in a free-form field', 'POST /v5/{project_id}/jobs', () => ({ job: { ...(TEMPLATES['POST /v5/{project_id}/jobs'].body as { job: object }).job, node_info: { spec: { node_type: 'high' }, vpc: { x: 'v'.repeat(900_000) } } } })],
    ['update a job with 900 kB of user_migration settings', 'PUT /v5/{project_id}/jobs/{job_id}', () => ({ job: { type: 'user_migration', params: { user_migration: { x: 'v'.repeat(900_000) } } } })],
    ['update a job with 40-level nesting in db_param', 'PUT /v5/{project_id}/jobs/{job_id}', () => ({ job: { type: 'db_param', params: { db_param: { x: nested(40) } } } })],
    [
      'update a job selecting 6,000 tables (a 600 kB job)',
      'PUT /v5/{project_id}/jobs/{job_id}',
      () => ({ job: { type: 'db_object', params: { db_object: { object_scope: 'table', object_info: { shop: { name: 'shop', tables: Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`table_${String(i).padStart(5, '0')}_${'t'.repeat(60)}`, { name: `t${i}` }])) } } } } } }),
    ],
    ['an action with 40-level nesting in its parameters', 'POST /v5/{project_id}/jobs/{job_id}/action', () => ({ job: { action_name: 'network', action_params: { compare_task_param: { x: nested(40) } } } })],
  ];
  it('nesting up to the limit is not what refuses a body (a column-level db_object needs about 12 levels)', async () => {
    const route = routeOf('PUT /v5/{project_id}/jobs/{job_id}')!;
    const columns = { job: { type: 'db_object', params: { db_object: { object_scope: 'table', object_info: { db: { tables: { t: { columns: { c: { name: 'c' } } } } } } } } } };
    const near = { job: { type: 'db_param', params: { db_param: { x: nested(17) } } } };
    for (const body of [columns, near]) {
      count('body: deep but within the nesting limit');
      const res = await send(svc.host, { method: route.method, path: pathFor(route, 'missing'), body: JSON.stringify(body), cred: svc.cred });
      expect(res.status).toBe(404);
    }
  });

  it.each(cases)('%s', async (kind, key, make) => {
    const route = routeOf(key);
    if (!route) return;
    const body = bodyText(make());
    expect(body.length).toBeLessThan(1_048_576);
    await check(route, { method: route.method, path: pathFor(route, 'real'), body, cred: svc.cred }, `hazard: ${kind}`);
  });
});
