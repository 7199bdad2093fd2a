/**
 * The local runtime's own figures: `npm start` time to ready (process spawn → listening) and
 * handler latency through the runtime (signed requests over HTTP, p50/p99 over 1,000 requests,
 * sequential). Run: `npm run bench:runtime`.
 */
import { apiClient } from '../../test/helpers/client.js';
import type { Cred } from '../../test/helpers/huawei.js';
import { startRuntime } from '../../test/helpers/runtime-process.js';

const cred: Cred = { accessKey: 'BENCHRUNTIME0001', secretKey: 'bench-runtime-secret', projectId: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' };
const N = Number(process.argv.find((a) => a.startsWith('--requests='))?.split('=')[1] ?? 1000);

const starts: number[] = [];
for (let i = 0; i < 3; i++) {
  const rt = await startRuntime({ env: { DRS_AK: cred.accessKey, DRS_SK: cred.secretKey, DRS_PROJECT_ID: cred.projectId } });
  starts.push(rt.readyMs);
  if (i < 2) {
    await rt.stop();
    continue;
  }
  const api = apiClient(rt.url, cred);
  await api.ok('POST', '/v5/{project_id}/connections', { body: { name: 'bench-conn', db_type: 'mysql', endpoint: { ip: '127.0.0.1', db_port: '3306', db_user: 'u', db_password: 'p' } } });
  const lat: number[] = [];
  for (let k = 0; k < N; k++) {
    const t0 = performance.now();
    const res = await api.call('GET', '/v5/{project_id}/connections', { query: { limit: 10 } });
    lat.push(performance.now() - t0);
    if (res.httpStatusCode !== 200) throw new Error(`request ${k} failed: ${JSON.stringify(res)}`);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  console.log(`npm start → ready: ${starts.join(' / ')} ms (3 cold starts)`);
  console.log(`GET /v5/{project_id}/connections through the local runtime, ${N} signed sequential requests (client = official Huawei SDK core): p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat[lat.length - 1].toFixed(2)} ms`);
  await rt.stop();
}
