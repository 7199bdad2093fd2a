/**
 * The PostgreSQL counterpart of crash-resume.it.test.ts: the runtime is killed with SIGKILL in the
 * middle of a full load whose target tables have their primary key deferred (whole-chunk COPY into
 * a heap), started again, and the job resumes: chunks in flight are redone without duplicating a
 * row (the primary key is added at the end, which would fail on a duplicate), the data ends equal,
 * and chunks finished before the crash are not copied again.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite } from '../../lib/local/dynamodb.js';
import type { ChunkRecord } from '../../lib/store/job-store.js';
import { Table, type Item } from '../../lib/store/table.js';
import { apiClient } from '../helpers/client.js';
import { requireBinaries, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { pgClient, pgDump } from '../helpers/dumps.js';
import type { Cred } from '../helpers/huawei.js';
import { createJobBody } from '../helpers/jobs.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

const run = requireBinaries('postgresql');
const cred: Cred = { accessKey: 'CRASHTESTKEYPG01', secretKey: 'crash-test-secret-pg-0123', projectId: 'dddddddddddddddddddddddddddddddd' };
const env = { DRS_AK: cred.accessKey, DRS_SK: cred.secretKey, DRS_PROJECT_ID: cred.projectId, DRS_ROWS_PER_CHUNK: '5000', DRS_PAGE_ROWS: '1000' };
const ROWS = 200_000;
let src: DbServer;
let dst: DbServer;
let rt: RuntimeProcess | undefined;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'drs-crash-pg-'));

/** The job's chunk records, read from the runtime's store on disk while the runtime is down. */
async function chunksOnDisk(jobId: string): Promise<ChunkRecord[]> {
  const dyn = await startDynalite(path.join(dataDir, 'dynamodb'));
  try {
    const t = new Table(new DynamoDBClient({ endpoint: dyn.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }), 'drs');
    return (await t.query<Item & { data: ChunkRecord }>(`J#${cred.projectId}#${jobId}`, { skPrefix: 'CHUNK#' })).map((i) => i.data);
  } finally {
    await dyn.close();
  }
}

beforeAll(async () => {
  if (!run) return;
  [src, dst] = await Promise.all([startPostgres(), startPostgres()]);
  for (const s of [src, dst]) {
    const c = await pgClient(s);
    await c.query('CREATE DATABASE shop');
    await c.end();
  }
  const c = await pgClient(src, 'shop');
  await c.query(`CREATE TABLE big (id bigint PRIMARY KEY, a varchar(120), b int); INSERT INTO big SELECT g, repeat('v', 100), (g - 1) % 97 FROM generate_series(1, ${ROWS}) g; ANALYZE big`);
  await c.end();
}, 120_000);

afterAll(async () => {
  await rt?.stop('SIGKILL');
  await Promise.all([src?.stop(), dst?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe.runIf(run)('crash during the full load', () => {
  it('resumes after SIGKILL without copying finished chunks again', async () => {
    rt = await startRuntime({ dataDir, env });
    let api = apiClient(rt.url, cred);
    const created = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'crash-job-pg', engine: 'postgresql', source: src, target: dst, sourceDb: 'shop', targetDb: 'shop', nodeType: 'small' }) });
    const id = created.id as string;
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    // Slow the copy down (1 MB/s all day) so the crash lands in the middle.
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'speed_limit', params: { speed_limit: [{ begin: '00:00', end: '23:59', speed: '1' }] } } } });
    expect((await api.precheck(id)).result).toBe(true);
    await api.action(id, 'start');
    await api.until(id, (j) => Number.parseInt(j.progress_info?.progress_map?.data?.completed ?? '0', 10) >= 15, 120_000, 'progress');

    await rt.stop('SIGKILL');
    const before = await chunksOnDisk(id);
    const doneBefore = before.filter((c) => c.status === 'done');
    expect(doneBefore.length).toBeGreaterThan(0);
    expect(doneBefore.length).toBeLessThan(before.length);

    rt = await startRuntime({ dataDir, env, port: rt.port });
    expect(rt.output()).toMatch(/resumed 1 interrupted job/);
    api = apiClient(rt.url, cred);
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'speed_limit', params: { speed_limit: [] } } } });
    const done = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 180_000);
    expect(done.status).toBe('FULL_TRANSFER_COMPLETE');
    await rt.stop();
    rt = undefined;

    const after = new Map((await chunksOnDisk(id)).map((c) => [c.chunk.id, c]));
    for (const c of doneBefore) {
      const now = after.get(c.chunk.id)!;
      expect(now.doneAt, c.chunk.id).toBe(c.doneAt);
      expect(now.attempts, c.chunk.id).toBe(c.attempts);
    }
    // The chunks in flight at the kill were claimed again (and so cleared their range before copying).
    expect([...after.values()].some((c) => c.attempts > 1)).toBe(true);
    const [a, b] = await Promise.all([pgDump(src, 'shop', 'public', 'big'), pgDump(dst, 'shop', 'public', 'big')]);
    expect(b.length).toBe(ROWS);
    expect(b).toEqual(a);
    const k = await pgClient(dst, 'shop');
    const pk = await k.query("SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'public.big'::regclass AND contype = 'p'");
    await k.end();
    expect(pk.rows.map((r) => r.def)).toEqual(['PRIMARY KEY (id)']);
  });
});
