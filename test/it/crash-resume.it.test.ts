/**
 * A crash in the middle of a full load: the runtime process is killed with SIGKILL while chunks
 * are being copied, started again on the same data directory, and the job resumes from its
 * checkpoints: the data ends equal, and chunks finished before the crash are not copied again.
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
import { requireBinaries, startMariaDb, type DbServer } from '../helpers/db-servers.js';
import { mysqlConn, mysqlDump } from '../helpers/dumps.js';
import type { Cred } from '../helpers/huawei.js';
import { createJobBody } from '../helpers/jobs.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

const run = requireBinaries('mysql');
const cred: Cred = { accessKey: 'CRASHTESTKEY0001', secretKey: 'crash-test-secret-0123', projectId: 'cccccccccccccccccccccccccccccccc' };
const env = { DRS_AK: cred.accessKey, DRS_SK: cred.secretKey, DRS_PROJECT_ID: cred.projectId, DRS_ROWS_PER_CHUNK: '5000', DRS_PAGE_ROWS: '1000' };
const ROWS = 200_000;
let src: DbServer;
let dst: DbServer;
let rt: RuntimeProcess | undefined;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'drs-crash-'));

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
  [src, dst] = await Promise.all([startMariaDb({ serverId: 21 }), startMariaDb({ serverId: 22 })]);
  const c = await mysqlConn(src);
  await c.query('CREATE DATABASE shop; CREATE TABLE shop.big (id BIGINT PRIMARY KEY, a VARCHAR(120), b INT)');
  for (let i = 0; i < ROWS; i += 10_000) {
    await c.query('INSERT INTO shop.big VALUES ?', [Array.from({ length: 10_000 }, (_, k) => [i + k + 1, 'v'.repeat(100), (i + k) % 97])]);
  }
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
    const created = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name: 'crash-job', source: src, target: dst, nodeType: 'micro' }) });
    const id = created.id as string;
    await api.until(id, (j) => j.status === 'CONFIGURATION');
    await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { shop: { all: true } } } } } } });
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
    const [a, b] = await Promise.all([mysqlDump(src, 'shop', 'big'), mysqlDump(dst, 'shop', 'big')]);
    expect(b.length).toBe(ROWS);
    expect(b).toEqual(a);
  });
});
