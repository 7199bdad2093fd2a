/** A signed API client for tests (the official Huawei SDK core underneath) with polling helpers. */
import { expect } from 'vitest';
import { huaweiClient, type Cred } from './huawei.js';

export function apiClient(url: string, cred: Cred) {
  const c = huaweiClient(url, cred);
  const api = {
    call: c.call,
    async ok(method: string, path: string, opts: Parameters<typeof c.call>[2] = {}) {
      const res = await c.call(method, path, opts);
      expect(res.httpStatusCode, `${method} ${path}: ${JSON.stringify(res)}`).toBeLessThan(300);
      return res as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    },
    async detail(jobId: string, type = 'detail', query: Record<string, string> = {}) {
      const res = await api.ok('GET', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: jobId }, query: { type, ...query } });
      return res.job as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    },
    async action(jobId: string, action_name: string, action_params?: Record<string, unknown>) {
      return api.ok('POST', '/v5/{project_id}/jobs/{job_id}/action', { path: { job_id: jobId }, body: { job: { action_name, ...(action_params ? { action_params } : {}) } } });
    },
    /** Poll job detail until `done(job)` holds; fails with the last state after `timeoutMs`. */
    async until(jobId: string, done: (job: Record<string, any>) => boolean, timeoutMs = 120_000, type = 'detail', query: Record<string, string> = {}) { // eslint-disable-line @typescript-eslint/no-explicit-any
      const deadline = Date.now() + timeoutMs;
      let last: Record<string, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
      while (Date.now() < deadline) {
        last = await api.detail(jobId, type, query);
        if (done(last)) return last;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`timed out waiting for job ${jobId}; last: ${JSON.stringify(last).slice(0, 2000)}`);
    },
    async status(jobId: string) {
      return (await api.detail(jobId)).status as string;
    },
    /** precheck → wait → assert passed (printing failed items otherwise). */
    async precheck(jobId: string, mode = 'forStartJob') {
      const { query_id } = await api.action(jobId, 'precheck', { precheck_mode: mode });
      const job = await api.until(jobId, (j) => j.precheck_result?.process === '100%' || !!j.precheck_result?.error_msg, 120_000, 'precheck', { query_id });
      return job.precheck_result as { result: boolean; precheck_results: { item: string; result: string; failed_reason: string }[]; total_passed_rate: string };
    },
  };
  return api;
}
