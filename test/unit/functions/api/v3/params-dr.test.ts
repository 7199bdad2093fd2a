/**
 * v3 parameters (database and tuning), what the deployment offers (zones, node types), and the
 * DR reads (RPO/RTO, monitoring, initialization progress and details).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as getParams, makeHandler as makeGetParams } from '../../../../../functions/api/v3/batch-show-params.js';
import { makeHandler as makeUpdateParams, handler as updateParams } from '../../../../../functions/api/v3/update-params.js';
import { handler as queryTuning } from '../../../../../functions/api/v3/query-tuning-params.js';
import { handler as modifyTuning } from '../../../../../functions/api/v3/update-tuning-params.js';
import { handler as zones } from '../../../../../functions/api/v3/list-available-zone.js';
import { handler as nodeTypes } from '../../../../../functions/api/v3/list-available-node-types.js';
import { handler as rpo } from '../../../../../functions/api/v3/batch-list-rpos-and-rtos.js';
import { handler as monitoring } from '../../../../../functions/api/v3/show-monitoring-data.js';
import { handler as structProcess } from '../../../../../functions/api/v3/batch-list-struct-process.js';
import { handler as structDetail } from '../../../../../functions/api/v3/batch-list-struct-detail.js';
import type { EndpointConfig } from '../../../../../lib/engines/engine.js';
import { MYSQL_PARAMS, type ServerParam } from '../../../../../lib/engines/params.js';
import { jobDeps } from '../../../../../lib/job/deps.js';
import type { ParamsPort } from '../../../../../lib/job/params.js';
import { jobStore } from '../../../../../lib/store/job-store.js';
import { drain } from '../../../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../../../helpers/local.js';
import { MISSING, results, v3 } from './helpers.js';

type H = (e: never, c: never) => Promise<unknown>;
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

/** Two fake servers keyed by port: values per parameter, and a record of the changes applied. */
function fakeServers(values: Record<number, Record<string, string>>) {
  const writes: { port: number; key: string; value: string }[] = [];
  const port: ParamsPort = {
    read: async (cfg: EndpointConfig): Promise<ServerParam[]> => MYSQL_PARAMS.map((p) => ({ ...p, value: values[cfg.port]?.[p.key] })),
    write: async (cfg, changes) => {
      for (const c of changes) {
        if (c.key === 'max_connections' && c.value === '7') throw new Error("Access denied; you need (at least one of) the SUPER privilege(s) for this operation");
        writes.push({ port: cfg.port, ...c });
        values[cfg.port][c.key] = c.value;
      }
    },
  };
  return { port, writes };
}

describe('database parameters', () => {
  it('compares the real values of both servers (202, "true"/"false" strings), caches them, and changes dynamic ones on the target', async () => {
    const id = await api.job({ source_endpoint: { db_type: 'mysql', ip: '127.0.0.1', db_port: 3301, db_user: 'u', db_password: 'p' }, target_endpoint: { db_type: 'mysql', ip: '127.0.0.1', db_port: 3302, db_user: 'u', db_password: 'p' } });
    const servers = fakeServers({ 3301: { max_connections: '151', sql_mode: 'STRICT_TRANS_TABLES', lower_case_table_names: '0' }, 3302: { max_connections: '100', sql_mode: 'STRICT_TRANS_TABLES', lower_case_table_names: '1' } });
    const deps = () => ({ ...jobDeps(), params: servers.port });
    const res = await api.send(makeGetParams(deps) as H, 'POST', '/jobs/batch-get-params', { jobs: [id, MISSING], refresh: '1' });
    expect(res.status).toBe(202);
    expect(res.body.count).toBe(2);
    const list = res.body.params_list as { params: Record<string, string>[]; error_code: string }[];
    const byKey = Object.fromEntries(list[0].params.map((p) => [p.key, p]));
    expect(byKey.max_connections).toMatchObject({ compare_result: 'false', source_value: '151', target_value: '100', need_restart: 'false', group: 'performance', data_type: 'figure', value_range: '1-100000' });
    expect(byKey.sql_mode).toMatchObject({ compare_result: 'true', group: 'common' });
    expect(byKey.lower_case_table_names).toMatchObject({ need_restart: 'true' });
    expect(list[1]).toMatchObject({ params: [], error_code: 'DRS.M00289' });

    const upd = makeUpdateParams(deps);
    const ok = await api.send(upd as H, 'POST', '/jobs/{job_id}/params', { group: 'performance', params: [{ key: 'max_connections', target_value: '151' }] }, { params: { job_id: id } });
    expect(ok).toMatchObject({ status: 202, body: { success: true, should_restart: 'false' } });
    expect(servers.writes).toEqual([{ port: 3302, key: 'max_connections', value: '151' }]);
    // refresh "0" answers from the comparison stored after the change
    const cached = await api.send(makeGetParams(deps) as H, 'POST', '/jobs/batch-get-params', { jobs: [id], refresh: 0 });
    expect((cached.body.params_list as { params: Record<string, string>[] }[])[0].params.find((p) => p.key === 'max_connections')).toMatchObject({ compare_result: 'true', target_value: '151' });

    const checks: [unknown, string][] = [
      [{ group: 'common', params: [{ key: 'lower_case_table_names', target_value: '0' }] }, 'restart'],
      [{ group: 'performance', params: [{ key: 'max_connections', target_value: '0' }] }, '1-100000'],
      [{ group: 'common', params: [{ key: 'max_connections', target_value: '10' }] }, 'group performance'],
      [{ group: 'common', params: [{ key: 'innodb_flush_method', target_value: 'x' }] }, 'not one of the compared'],
    ];
    for (const [body, why] of checks) {
      const r = await api.send(upd as H, 'POST', '/jobs/{job_id}/params', body, { params: { job_id: id } });
      expect(r, why).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
      expect(r.body.error_msg).toContain(why);
    }
    const denied = await api.send(upd as H, 'POST', '/jobs/{job_id}/params', { group: 'performance', params: [{ key: 'max_connections', target_value: '7' }] }, { params: { job_id: id } });
    expect(denied).toMatchObject({ status: 400, body: { error_code: 'DRS.KE0048' } });
    expect(denied.body.error_msg).toContain('SUPER');
  });

  it('requires a comparison first and CONFIGURATION; reports an unreachable server as DRS.KE0048 per item', async () => {
    const id = await api.job();
    const first = await api.send(updateParams as H, 'POST', '/jobs/{job_id}/params', { group: 'common', params: [{ key: 'sql_mode', target_value: '' }] }, { params: { job_id: id } });
    expect(first).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(first.body.error_msg).toContain('compare the parameters first');
    const real = await api.send(getParams as H, 'POST', '/jobs/batch-get-params', { jobs: [id], refresh: '1' });
    expect(real).toMatchObject({ status: 400, body: { params_list: [{ error_code: 'DRS.KE0048' }] } });
    await api.force(id, 'FULL_TRANSFER_STARTED');
    const late = await api.send(getParams as H, 'POST', '/jobs/batch-get-params', { jobs: [id], refresh: '1' });
    expect(late).toMatchObject({ status: 400, body: { params_list: [{ error_code: 'DRS.M00304' }] } });
    const missing = await api.send(updateParams as H, 'POST', '/jobs/{job_id}/params', { group: 'common', params: [{ key: 'sql_mode', target_value: '' }] }, { params: { job_id: MISSING } });
    expect(missing).toMatchObject({ status: 404, body: { error_code: 'DRS.M00289' } });
    const bad = await api.send(getParams as H, 'POST', '/jobs/batch-get-params', { jobs: [id], refresh: '2' });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(bad.body.error_msg).toContain('refresh');
  });
});

describe('tuning parameters', () => {
  it('reports the effective settings as strings and refuses changes with a clear 400', async () => {
    const id = await api.job({ node_type: 'medium' });
    const q = await api.send(queryTuning as H, 'GET', '/job/{job_id}/tuning-params/query-params', undefined, { params: { job_id: id } });
    expect(q.status).toBe(200);
    expect((q.body.full_sync as Record<string, string>[])[0]).toMatchObject({ param_name: 'parallel_chunk_workers', param_value: '4', availability: 'false' });
    const m = await api.send(modifyTuning as H, 'PUT', '/job/{job_id}/tuning-params/modify-params', { full_sync: { parallel_chunk_workers: '16' } }, { params: { job_id: id } });
    expect(m).toMatchObject({ status: 400, body: { error_code: 'DRS.M00300' } });
    expect(m.body.error_msg).toContain('fixed');
    const missing = await api.send(queryTuning as H, 'GET', '/job/{job_id}/tuning-params/query-params', undefined, { params: { job_id: MISSING } });
    expect(missing).toMatchObject({ status: 404, body: { error_code: 'DRS.M00289' } });
  });
});

describe('zones and node types', () => {
  it('answers the zone this deployment runs in and the node sizes it offers', async () => {
    const z = await api.send(zones as H, 'POST', '/available-zone', { engine_type: 'mysql', db_use_type: 'sync', job_direction: 'up', node_type: 'medium' });
    expect(z).toMatchObject({ status: 200, body: { az_infos: [{ code: 'local', status: 'ENABLED' }] } });
    const n = await api.send(nodeTypes as H, 'GET', '/node-type', undefined, { query: { engine_type: 'cloudDataGuard-mysql', db_use_type: 'cloudDataGuard', job_direction: 'up' } });
    expect(n).toMatchObject({ status: 200 });
    expect(n.body.node_types).toEqual(['micro', 'small', 'medium', 'high', 'xlarge'].map((node_type) => ({ node_type, is_sellout: false })));
  });

  it.each([
    ['an engine this deployment does not replicate', { engine_type: 'mongodb', db_use_type: 'migration', job_direction: 'up' }, 'DRS.M00302', 'mongodb'],
    ['a bad direction', { engine_type: 'mysql', db_use_type: 'migration', job_direction: 'sideways' }, 'DRS.M00202', 'job_direction'],
    ['a DR engine for a sync job', { engine_type: 'cloudDataGuard-mysql', db_use_type: 'sync', job_direction: 'up' }, 'DRS.M00302', 'cloudDataGuard'],
  ])('refuses %s', async (_c, query, code, text) => {
    const n = await api.send(nodeTypes as H, 'GET', '/node-type', undefined, { query });
    expect(n).toMatchObject({ status: 400, body: { error_code: code } });
    expect(n.body.error_msg).toContain(text);
  });
});

describe('DR reads', () => {
  async function drJob() {
    const id = await api.job({ db_use_type: 'cloudDataGuard', engine_type: 'cloudDataGuard-mysql', task_type: 'FULL_INCR_TRANS', net_type: 'eip' });
    const now = Date.now();
    await api.force(id, 'INCRE_TRANSFER_STARTED', {
      run: {
        runId: 'r1', phase: 'incremental', startedAt: now - 60_000, schemaCopied: true, chunksPlanned: true, fullLoadStartedAt: now - 50_000, fullLoadCompletedAt: now - 40_000, indexesCreated: true, incrementalStartedAt: now - 40_000,
        startPosition: { kind: 'mysql', file: 'mysql-bin.000003', pos: 120, gtid: '0-1-5' },
        appliedPosition: { kind: 'mysql', file: 'mysql-bin.000003', pos: 900, gtid: '0-1-9' },
        cdc: { lagMillis: 1200, eventsPerSecond: 40, eventsApplied: 400, transactionsApplied: 100, updatedAt: now },
      },
    });
    const job = (await jobStore().get(svc.cred.projectId, id))!;
    await jobStore().putTables(job, [{ index: 0, source: { db: 'shop', table: 'orders' }, target: { db: 'shop', table: 'orders' }, keyColumns: ['id'], estimatedRows: 10, estimatedBytes: 100, chunkCount: 1 }]);
    await jobStore().putChunks(job, [{ tableIndex: 0, chunk: { id: 'c0', table: { db: 'shop', table: 'orders' }, keyColumns: ['id'], estimatedRows: 10 }, status: 'done', rows: 10, bytes: 100, attempts: 1, doneAt: now }]);
    return id;
  }

  it('reports RPO/RTO from the measured lag and the committed position (202); a migration job is refused per item', async () => {
    const id = await drJob();
    const mig = await api.job();
    const r = await api.send(rpo as H, 'POST', '/jobs/batch-rpo-and-rto', { jobs: [id, mig] });
    expect(r.status).toBe(202);
    expect(results(r)[0]).toMatchObject({ job_id: id, rpo_info: { check_point: 'mysql-bin.000003:900', delay: '1200', gtid_set: '0-1-9' }, error_code: '' });
    expect((results(r)[0].rpo_info as { time: string }).time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(results(r)[1]).toMatchObject({ job_id: mig, error_code: 'DRS.M00202' });
  });

  it('reports monitoring data (data_guard_minitor, sic) with int64 delays and string rates', async () => {
    const id = await drJob();
    const m = await api.send(monitoring as H, 'POST', '/jobs/disaster-recovery-monitoring-data', { jobs: [id] });
    expect(m).toMatchObject({ status: 200, body: { count: 1, results: [{ id, data_guard_minitor: { sr_delay: 1200, dst_delay: 1200, src_normal: true, sr_offset: 'mysql-bin.000003:900', src_rps: '40', trans_lines: '410' } }] } });
  });

  it('reports the initialization progress per type (int status/counts/times) and the per-table details, paged', async () => {
    const id = await drJob();
    const p = await api.send(structProcess as H, 'POST', '/jobs/batch-struct-process', { jobs: [id, MISSING] });
    expect(p.status).toBe(200);
    const sp = (results(p)[0] as { struct_process: { result: Record<string, unknown>[] } }).struct_process.result;
    expect(sp.find((x) => x.type === 'table')).toMatchObject({ status: 2, src_count: 1, dst_count: 1 });
    expect(typeof sp[0].start_time).toBe('number');
    expect(results(p)[1]).toMatchObject({ job_id: MISSING, error_code: 'DRS.M00289' });
    const d = await api.send(structDetail as H, 'POST', '/jobs/{type}/batch-struct-detail', { jobs: [id], page_req: { cur_page: 1, per_page: 10 } }, { params: { type: 'table' } });
    expect(d).toMatchObject({ status: 200, body: { results: [{ job_id: id, struct_detail: { total_record: 1, list: [{ progress: 100, src_DB: 'shop', src_TB: 'orders', dst_DB: 'shop', dst_TB: 'orders' }] } }] } });
    const views = await api.send(structDetail as H, 'POST', '/jobs/{type}/batch-struct-detail', { jobs: [id] }, { params: { type: 'view' } });
    expect(views.body).toMatchObject({ results: [{ struct_detail: { total_record: 0, list: [] } }] });
    const bad = await api.send(structDetail as H, 'POST', '/jobs/{type}/batch-struct-detail', { jobs: [id] }, { params: { type: 'sequence' } });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'DRS.M00202' } });
    expect(bad.body.error_msg).toContain('type');
  });
});
