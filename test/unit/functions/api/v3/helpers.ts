/** Shared builders for the v3 handler tests: a v3 create body, signed events, forced statuses. */
import { expect } from 'vitest';
import { handler as create } from '../../../../../functions/api/v3/batch-create-jobs.js';
import type { Job } from '../../../../../lib/job/job.js';
import type { JobStatus } from '../../../../../lib/job/transitions.js';
import { jobStore } from '../../../../../lib/store/job-store.js';
import { table } from '../../../../../lib/store/table.js';
import { apiEvent, call, type ApiResult } from '../../../../helpers/events.js';
import type { Cred } from '../../../../helpers/huawei.js';
import { drain } from '../../../../helpers/jobs.js';

export const P = '/v3/{project_id}';
export const FAKE_PASSWORD = 'v3-not-a-real-password';

export function endpointV3(over: Record<string, unknown> = {}) {
  return { db_type: 'mysql', ip: '127.0.0.1', db_port: 1, db_user: 'root', db_password: FAKE_PASSWORD, ...over };
}

export function createItemV3(over: Record<string, unknown> = {}) {
  return {
    name: 'v3job' + Math.random().toString(36).slice(2, 10),
    db_use_type: 'migration',
    engine_type: 'mysql',
    job_direction: 'up',
    net_type: 'eip',
    bind_eip: true,
    node_type: 'high',
    task_type: 'FULL_TRANS',
    customize_sutnet_id: 'a0d6d1c4-5e77-4c55-9c52-3f5ec49a8f00',
    expired_days: '14',
    source_endpoint: endpointV3(),
    target_endpoint: endpointV3(),
    ...over,
  };
}

type Handler = (e: never, c: never) => Promise<unknown>;

export function v3(cred: Cred) {
  const send = (handler: Handler, method: string, route: string, body?: unknown, opts: { params?: Record<string, string>; query?: Record<string, string> } = {}): Promise<ApiResult> =>
    call(handler, apiEvent({ method, route: `${P}${route}`, body, cred, ...opts }));
  return {
    send,
    /** Create one v3 job and wait until it is CONFIGURATION. */
    async job(over: Record<string, unknown> = {}): Promise<string> {
      const res = await send(create as Handler, 'POST', '/jobs/batch-creation', { jobs: [createItemV3(over)] });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await drain();
      return (res.body.results as { id: string }[])[0].id;
    },
    snapshot: async () => JSON.stringify(await table().query(`P#${cred.projectId}`)),
    async force(id: string, status: JobStatus, extra: Partial<Job> = {}) {
      const job = (await jobStore().get(cred.projectId, id))!;
      await jobStore().save({ ...job, ...extra, status, version: job.version + 1, run: { runId: 'r0', phase: 'full', startedAt: Date.now(), ...(job.run ?? {}), ...(extra.run ?? {}) } });
    },
    get: async (id: string) => (await jobStore().get(cred.projectId, id))!,
  };
}

export const MISSING = '00000000-0000-4000-8000-0000000jb000';
export const results = (r: ApiResult) => r.body.results as Record<string, unknown>[];
