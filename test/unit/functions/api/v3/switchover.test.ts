/**
 * v3 batch-switchover with a fake DR port (write modes and positions recorded): the order of the
 * steps, the reversed job, the RPO/RTO reported, and the rollback when the standby does not catch up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as realSwitchover, makeHandler } from '../../../../../functions/api/v3/batch-switchover.js';
import { handler as rpo } from '../../../../../functions/api/v3/batch-list-rpos-and-rtos.js';
import type { CdcPosition, EndpointConfig } from '../../../../../lib/engines/engine.js';
import type { WriteMode } from '../../../../../lib/engines/params.js';
import { jobDeps } from '../../../../../lib/job/deps.js';
import { positionReached, reverseSelection } from '../../../../../lib/job/switchover.js';
import { jobStore } from '../../../../../lib/store/job-store.js';
import { drain } from '../../../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../../../helpers/local.js';
import { endpointV3, MISSING, results, v3 } from './helpers.js';

type H = (e: never, c: never) => Promise<unknown>;
let svc: LocalService;
let api: ReturnType<typeof v3>;
beforeAll(async () => {
  process.env.DRS_LOCAL_FAST_RETRY = '10';
  svc = await startLocal({ http: false });
  api = v3(svc.cred);
});
afterAll(async () => {
  await drain();
  await svc.stop();
  delete process.env.DRS_LOCAL_FAST_RETRY;
});

const PRIMARY = 3401;
const STANDBY = 3402;
const applied: CdcPosition = { kind: 'mysql', file: 'binlog.000002', pos: 5000, gtid: '0-1-40' };

async function drJob() {
  const id = await api.job({ db_use_type: 'cloudDataGuard', engine_type: 'cloudDataGuard-mysql', task_type: 'FULL_INCR_TRANS', job_direction: 'up', source_endpoint: endpointV3({ db_port: PRIMARY }), target_endpoint: endpointV3({ db_port: STANDBY, inst_id: 'standby-in01' }) });
  await api.force(id, 'INCRE_TRANSFER_STARTED', { run: { runId: 'r1', phase: 'incremental', startedAt: Date.now(), schemaCopied: true, fullLoadCompletedAt: Date.now(), startPosition: { kind: 'mysql', file: 'binlog.000001', pos: 4 }, appliedPosition: applied, cdc: { lagMillis: 800, eventsPerSecond: 1, eventsApplied: 1, transactionsApplied: 1, updatedAt: Date.now() } } });
  const job = await api.get(id);
  await jobStore().putTables(job, [{ index: 0, source: { db: 'shop', table: 'orders' }, target: { db: 'shop_dr', table: 'orders' }, keyColumns: ['id'], estimatedRows: 1, estimatedBytes: 1, chunkCount: 1 }]);
  return id;
}

function fakeDr(primaryAt: CdcPosition) {
  const calls: string[] = [];
  const port = {
    setWriteMode: async (cfg: EndpointConfig, mode: WriteMode) => void calls.push(`${cfg.port}:${mode}`),
    position: async (cfg: EndpointConfig): Promise<CdcPosition> => (calls.push(`${cfg.port}:position`), cfg.port === PRIMARY ? primaryAt : { kind: 'mysql', file: 'standby-bin.000007', pos: 777, gtid: '0-2-9' }),
  };
  return { calls, handler: makeHandler(() => ({ ...jobDeps(), dr: port, waitMs: 400, pollMs: 50 })) };
}

describe('POST /v3/{project_id}/jobs/batch-switchover', () => {
  it('stops writes, waits for zero lag, reverses the job and reports RPO 0 and the RTO (202)', async () => {
    const id = await drJob();
    const dr = fakeDr(applied);
    const res = await api.send(dr.handler as H, 'POST', '/jobs/batch-switchover', { jobs: [id] });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const r = results(res)[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(r).toMatchObject({ job_id: id, job_direction: 'down', is_target_readonly: true, rpo_millis: 0, lag_at_switch_millis: 800, error_code: '', source_db: { db_port: STANDBY, instance_id: 'standby-in01' }, target_db: { db_port: PRIMARY } });
    expect(r.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(typeof r.rto_millis).toBe('number');
    // writes stopped on the primary first; the standby becomes writable; the old primary stays read-only for applications
    expect(dr.calls).toEqual([`${PRIMARY}:all`, `${PRIMARY}:position`, `${STANDBY}:position`, `${STANDBY}:off`, `${PRIMARY}:apps`]);
    const job = await api.get(id);
    expect(job).toMatchObject({ jobDirection: 'down', source: { port: STANDBY }, target: { port: PRIMARY }, run: { phase: 'incremental', startPosition: { file: 'standby-bin.000007', pos: 777 } }, echo: { original_job_direction: 'up', switchover: { rpoMillis: 0 } } });
    expect(job.run!.appliedPosition).toBeUndefined();
    expect(['INCRE_TRANSFER_STARTED', 'INCRE_TRANSFER_FAILED']).toContain(job.status);
    expect((await jobStore().listTables(job))[0]).toMatchObject({ source: { db: 'shop_dr' }, target: { db: 'shop' } });
    const ro = await api.send(rpo as H, 'POST', '/jobs/batch-rpo-and-rto', { jobs: [id] });
    expect(ro.status).toBe(202);
    await drain();
  });

  it('makes the primary writable again and leaves the job as it was when the standby does not catch up', async () => {
    const id = await drJob();
    const before = JSON.stringify(await api.get(id));
    const dr = fakeDr({ kind: 'mysql', file: 'binlog.000003', pos: 10 });
    const res = await api.send(dr.handler as H, 'POST', '/jobs/batch-switchover', { jobs: [id] });
    expect(res).toMatchObject({ status: 400, body: { error_code: 'DRS.M01504', results: [{ job_id: id, error_code: 'DRS.M01504' }] } });
    expect(res.body.error_msg).toContain('did not catch up');
    expect(dr.calls).toEqual([`${PRIMARY}:all`, `${PRIMARY}:position`, `${PRIMARY}:off`]);
    expect(JSON.stringify(await api.get(id))).toBe(before);
  });

  it('refuses migration jobs, jobs not in DR, and unknown jobs per item; a bad body with 400', async () => {
    const mig = await api.job();
    const dr = await drJob();
    await api.force(dr, 'PAUSING');
    const port = fakeDr(applied);
    const res = await api.send(port.handler as H, 'POST', '/jobs/batch-switchover', { jobs: [mig, dr, MISSING] });
    expect(res.status).toBe(400);
    expect(results(res).map((x) => x.error_code)).toEqual(['DRS.M00202', 'DRS.M00304', 'DRS.M00289']);
    expect(port.calls).toEqual([]);
    const bad = await api.send(realSwitchover as H, 'POST', '/jobs/batch-switchover', { jobs: [{ job_id: dr }] });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(bad.body.error_msg).toContain('jobs');
  });
});

describe('switchover helpers', () => {
  it('compares binlog positions across files', () => {
    expect(positionReached({ kind: 'mysql', file: 'b.000010', pos: 4 }, { kind: 'mysql', file: 'b.000009', pos: 900 })).toBe(true);
    expect(positionReached({ kind: 'mysql', file: 'b.000009', pos: 899 }, { kind: 'mysql', file: 'b.000009', pos: 900 })).toBe(false);
    expect(positionReached(undefined, { kind: 'mysql', file: 'b.000001', pos: 4 })).toBe(false);
  });

  it('reverses renames in the selection', () => {
    expect(reverseSelection({ object_scope: 'database', object_info: { shop: { name: 'shop_dr', tables: { orders: { name: 'orders_dr' } } } } })).toEqual({ object_scope: 'database', object_info: { shop_dr: { name: 'shop', tables: { orders_dr: { name: 'orders' } } } } });
    expect(reverseSelection({ object_scope: 'all' })).toEqual({ object_scope: 'all' });
  });
});
