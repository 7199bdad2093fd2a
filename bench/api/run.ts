/**
 * API load benchmark against the in-process local runtime (the same HTTP server and handler
 * modules `npm start` serves), driven by autocannon in the same process — so the figures include
 * the load generator's own share of the event loop and are a floor, not a ceiling.
 *
 * 1. 1,000 jobs are written through the job store (fast), then sustained SIGNED requests
 *    (pre-signed once with a fixed X-Sdk-Date inside the 15-minute window) hit the list and the
 *    detail endpoints: throughput, p50/p99 latency, errors (must be zero).
 * 2. 50 concurrent clients act on the same 20 jobs through POST /jobs/{id}/action (start, stop =
 *    pause, restart, terminate), each request signed as it is sent, while a watcher reads the jobs
 *    continuously. Afterwards every job is in a valid status, every observed status change is one
 *    the transition table allows (directly or through statuses too brief to observe), versions
 *    only ever grew, the stored item agrees with itself (version, status index), no answer was a
 *    5xx and no connection failed.
 *
 * Run: `npm run bench:api` (options: --seconds=10 --connections=10 --jobs=1000 --actors=50).
 * Exits non-zero when any check fails.
 */
import '../../lib/polyfills.js';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { credentialStore } from '../../lib/auth/credentials.js';
import type { Job } from '../../lib/job/job.js';
import { newJobId } from '../../lib/job/commands.js';
import { JOB_STATUSES, TRANSITIONS, type JobStatus } from '../../lib/job/transitions.js';
import { bootstrapLocal } from '../../lib/local/bootstrap.js';
import { serverPort, startHttpServer } from '../../lib/local/http-server.js';
import { routes } from '../../lib/local/routes.js';
import { localWorkflow } from '../../lib/local/step-functions.js';
import { setLogSink } from '../../lib/logger.js';
import { jobStore } from '../../lib/store/job-store.js';
import { table } from '../../lib/store/table.js';
import { apiClient } from '../../test/helpers/client.js';
import { createJobBody } from '../../test/helpers/jobs.js';
import { ROOT } from '../../test/helpers/local.js';
import { sdkDate, signHeaders } from '../../test/unit/hardening/wire.js';

interface Histogram { average: number; p50: number; p99: number; max: number }
interface Result { requests: Histogram & { total: number }; latency: Histogram; throughput: Histogram; errors: number; timeouts: number; non2xx: number; duration: number; statusCodeStats?: Record<string, { count: number }> }
interface AutocannonRequest { method?: string; path?: string; headers?: Record<string, string>; body?: string; setupRequest?: (req: AutocannonRequest) => AutocannonRequest; onResponse?: (status: number, body: string) => void }
const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<Result>;

const arg = (k: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
const SECONDS = arg('seconds', 10);
const CONNECTIONS = arg('connections', 10);
const JOBS = arg('jobs', 1000);
const ACTORS = arg('actors', 50);
const RACED = 20;

process.env.LOG_LEVEL = 'warn';
process.env.DRS_LOCAL_FAST_RETRY = '20';
process.env.DRS_LOCAL_FAST_WAIT = '20';
const serverErrors: string[] = [];
setLogSink((line) => {
  if (line.includes('"level":"error"') && serverErrors.length < 20) serverErrors.push(line.slice(0, 500));
});

const env = await bootstrapLocal({ env: {} });
const server = await startHttpServer(routes(ROOT), 0);
const host = `127.0.0.1:${serverPort(server)}`;
const c = env.credential;
const cred = { accessKey: c.accessKey, secretKey: c.secretKey, projectId: c.projectIds[0] };
await credentialStore().get(cred.accessKey);
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  if (!ok) failures.push(what);
};

// --- 1,000 jobs through the store -----------------------------------------------------------
const t0 = performance.now();
const api = apiClient(`http://${host}`, cred);
const first = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'bench-template' }) });
const template = await (async () => {
  for (;;) {
    const j = await jobStore().get(cred.projectId, first.id as string);
    if (j?.status === 'CONFIGURATION') return j;
    await new Promise((r) => setTimeout(r, 20));
  }
})();
const ids: string[] = [first.id as string];
for (let i = 1; i < JOBS; i += 50) {
  await Promise.all(
    Array.from({ length: Math.min(50, JOBS - i) }, async (_, k) => {
      const id = newJobId();
      const name = `bench-${String(i + k).padStart(5, '0')}`;
      await jobStore().claimName(cred.projectId, name, id);
      await jobStore().create({ ...structuredClone(template), id, name, createTime: template.createTime + i + k, updateTime: template.updateTime + i + k });
      ids.push(id);
    }),
  );
}
console.log(`API load benchmark (in-process local runtime + autocannon in the same Node process, ${SECONDS} s per run)`);
console.log(`  ${ids.length} jobs stored in ${Math.round(performance.now() - t0)} ms`);

// --- sustained signed reads ------------------------------------------------------------------
const date = sdkDate();
const base = { host, 'content-type': 'application/json', 'x-project-id': cred.projectId };
function signed(method: string, path: string, query = '', body?: string): AutocannonRequest {
  const headers = signHeaders({ method, path, query, body: body === undefined ? undefined : Buffer.from(body), headers: base }, cred, date);
  return { method, path: query ? `${path}?${query}` : path, headers, body };
}
const jobsPath = `/v5/${cred.projectId}/jobs`;
const reads: [string, AutocannonRequest[]][] = [
  ['GET /jobs (list, 1,000 jobs, page of 10)', [signed('GET', jobsPath, 'job_type=migration&limit=10')]],
  ['GET /jobs (list, page of 100, varying offset and sort)', Array.from({ length: 10 }, (_, i) => signed('GET', jobsPath, `job_type=migration&limit=100&offset=${i * 100}&sort_key=${i % 2 ? 'name' : 'create_time'}`))],
  ['GET /jobs/{id}?type=detail (200 different jobs)', ids.slice(0, 200).map((id) => signed('GET', `${jobsPath}/${id}`, 'type=detail'))],
  ['GET /jobs/{id}/actions (200 different jobs)', ids.slice(0, 200).map((id) => signed('GET', `${jobsPath}/${id}/actions`))],
];
const ms = (x: number) => `${x.toFixed(1)} ms`;
for (const [name, requests] of reads) {
  const r = await autocannon({ url: `http://${host}`, connections: CONNECTIONS, duration: SECONDS, requests });
  const errors = r.errors + r.timeouts + r.non2xx;
  console.log(`  ${name}: ${Math.round(r.requests.average)} req/s, latency p50 ${ms(r.latency.p50)} p99 ${ms(r.latency.p99)} max ${ms(r.latency.max)}, ${r.requests.total} requests, errors ${errors}`);
  check(errors === 0, `${name}: ${errors} errors (${r.errors} connection, ${r.timeouts} timeouts, ${r.non2xx} non-2xx)`);
}

// --- 50 actors racing on the same 20 jobs -----------------------------------------------------
const raced = ids.slice(1, 1 + RACED);
for (const id of raced) {
  const j = (await jobStore().get(cred.projectId, id))!;
  await jobStore().save({ ...j, version: j.version + 1, precheck: { id: randomUUID(), mode: 'forStartJob', status: 'success', createdAt: Date.now(), results: [], skipped: [], passed: true, configVersion: j.configVersion } });
}
const initial = new Map<string, number>();
for (const id of raced) initial.set(id, (await jobStore().get(cred.projectId, id))!.version);

/** Statuses reachable from `from` in the transition table (paths of any length). */
function reachable(from: JobStatus): Set<JobStatus> {
  const seen = new Set<JobStatus>();
  const todo: JobStatus[] = [from];
  while (todo.length) for (const n of TRANSITIONS[todo.pop()!] as readonly JobStatus[]) if (!seen.has(n)) (seen.add(n), todo.push(n));
  return seen;
}
const seen = new Map<string, { status: JobStatus; version: number }[]>(raced.map((id) => [id, []]));
let watching = true;
const watcher = (async () => {
  while (watching) {
    await Promise.all(
      raced.map(async (id) => {
        const j = await jobStore().get(cred.projectId, id);
        if (!j) return;
        const h = seen.get(id)!;
        const last = h[h.length - 1];
        if (!last || last.version !== j.version || last.status !== j.status) h.push({ status: j.status, version: j.version });
      }),
    );
    await new Promise((r) => setTimeout(r, 25));
  }
})();

/** Weighted so that jobs keep moving for the whole run: terminate (final) is rare. */
const ACTIONS = [...Array(35).fill('start'), ...Array(30).fill('stop'), ...Array(33).fill('restart'), ...Array(2).fill('terminate')] as string[];
const statusCounts = new Map<string, number>();
const raceRequest: AutocannonRequest = {
  setupRequest: (req) => {
    const id = raced[Math.floor(Math.random() * raced.length)];
    const action = ACTIONS[Math.floor(Math.random() * ACTIONS.length)];
    const body = JSON.stringify({ job: { action_name: action } });
    return { ...req, ...signed('POST', `${jobsPath}/${id}/action`, '', body) };
  },
  onResponse: (status) => statusCounts.set(String(status), (statusCounts.get(String(status)) ?? 0) + 1),
};
const race = await autocannon({ url: `http://${host}`, connections: ACTORS, duration: SECONDS, requests: [raceRequest] });
await localWorkflow().drain(120_000).catch((e: Error) => failures.push(`workflows did not settle: ${e.message}`));
await new Promise((r) => setTimeout(r, 200));
watching = false;
await watcher;

const codes = [...statusCounts.entries()].sort().map(([k, n]) => `${k}: ${n}`).join(', ');
console.log(`  POST /jobs/{id}/action, ${ACTORS} concurrent clients on ${RACED} jobs (start/stop/restart/terminate, 35/30/33/2 %): ${Math.round(race.requests.average)} req/s, latency p50 ${ms(race.latency.p50)} p99 ${ms(race.latency.p99)}, ${race.requests.total} requests; answers ${codes}; connection errors ${race.errors + race.timeouts}`);
check(race.errors + race.timeouts === 0, `race: ${race.errors} connection errors, ${race.timeouts} timeouts`);
check(![...statusCounts.keys()].some((s) => Number(s) >= 500), `race: 5xx answers (${codes})`);

let changes = 0;
const finals = new Map<string, number>();
for (const id of raced) {
  const item = await table().get<{ pk: string; sk: string; data: Job; version: number; gsi1pk: string }>(`P#${cred.projectId}`, `JOB#${id}`);
  const job = item?.data;
  check(!!job, `${id}: gone`);
  if (!item || !job) continue;
  const parsed = JSON.parse(JSON.stringify(item)) as typeof item;
  check(JOB_STATUSES.includes(parsed.data.status), `${id}: unknown status ${parsed.data.status}`);
  check(parsed.version === parsed.data.version, `${id}: item version ${parsed.version} ≠ job version ${parsed.data.version}`);
  check(parsed.gsi1pk === `STATUS#${parsed.data.status}`, `${id}: status index ${parsed.gsi1pk} ≠ ${parsed.data.status}`);
  check(parsed.data.id === id && parsed.data.projectId === cred.projectId && parsed.data.name.startsWith('bench-'), `${id}: identity changed`);
  check(parsed.data.version >= initial.get(id)!, `${id}: version went back from ${initial.get(id)} to ${parsed.data.version}`);
  finals.set(parsed.data.status, (finals.get(parsed.data.status) ?? 0) + 1);
  const h = seen.get(id)!;
  for (let k = 1; k < h.length; k++) {
    const [a, b] = [h[k - 1], h[k]];
    check(b.version > a.version, `${id}: version ${a.version} → ${b.version}`);
    if (a.status !== b.status) {
      changes++;
      check(reachable(a.status).has(b.status), `${id}: ${a.status} → ${b.status} is not in the transition table`);
    }
  }
}
console.log(`  after the race: ${[...finals].map(([s, n]) => `${n} ${s}`).join(', ')}; ${changes} status changes observed, all allowed by the transition table; versions only grew`);
if (serverErrors.length) failures.push(`server logged errors:\n${serverErrors.join('\n')}`);

server.close();
await env.dynamo.close();
if (failures.length) {
  console.log(`FAILED:\n  ${failures.slice(0, 30).join('\n  ')}`);
  process.exit(1);
}
console.log('  all checks passed: zero errors, every job valid');
process.exit(0);
