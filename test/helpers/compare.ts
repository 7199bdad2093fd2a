/** Compare helpers for integration tests: create compares through the APIs and wait for them. */
import { expect } from 'vitest';
import type { apiClient } from './client.js';
import { huaweiSign } from './huawei.js';
import type { LocalService } from './local.js';

type Api = ReturnType<typeof apiClient>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** v5 action create_compare → the task id (the 202's query_id). */
export async function createCompareV5(api: Api, jobId: string, type: 'object' | 'lines' | 'contents', extra: Json = {}): Promise<string> {
  const res = await api.ok('POST', '/v5/{project_id}/jobs/{job_id}/action', { path: { job_id: jobId }, body: { job: { action_name: 'create_compare', action_params: { compare_task_param: { type, ...extra } } } } });
  expect(res.httpStatusCode).toBe(202);
  expect(res.query_id).toMatch(/^[0-9a-f-]{36}$/);
  return res.query_id as string;
}

/** `type=compare` job detail. */
export async function compareDetail(api: Api, jobId: string, query: Record<string, string>): Promise<Json> {
  return api.detail(jobId, 'compare', query);
}

/** Poll the data compare list until the task has ended; returns its CompareJobInfo. */
export async function waitCompare(api: Api, jobId: string, taskId: string, timeoutMs = 150_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  let last: Json | undefined;
  while (Date.now() < deadline) {
    const d = await compareDetail(api, jobId, { compare_type: 'data_compare', query_type: 'list', limit: '1000' });
    last = (d.compare_result.data_compare_task_list as Json[]).find((t) => t.id === taskId);
    if (last && ['SUCCESSFUL', 'FAILED', 'CANCELLED'].includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`compare ${taskId} did not end; last: ${JSON.stringify(last)}`);
}

/** Every listed row difference of a content compare (v5 diff view, all pages). */
export async function allDiffs(api: Api, jobId: string, taskId: string): Promise<{ count: number; infos: Json[]; detail: Json }> {
  const infos: Json[] = [];
  let detail: Json = {};
  for (let offset = 0; ; offset += 1000) {
    const d = await compareDetail(api, jobId, { compare_type: 'content_compare', query_type: 'diff', compare_task_id: taskId, offset: String(offset), limit: '1000' });
    detail = d.compare_result.content_diff_detail_info;
    infos.push(...(detail.contents_infos as Json[]));
    if ((detail.contents_infos as Json[]).length < 1000) break;
  }
  return { count: detail.count as number, infos, detail };
}

/** The v3 compare report (GET .../compare/result/file, CSV), signed like any request, as rows of fields. */
export async function compareCsvReport(svc: LocalService, jobId: string, taskId: string, type: string): Promise<string[][]> {
  const p = `/v3/${svc.cred.projectId}/jobs/${jobId}/compare/result/file`;
  const query = { compare_type: type, compare_job_id: taskId };
  const headers = Object.fromEntries(Object.entries(huaweiSign({ method: 'GET', host: svc.host, path: p, query, cred: svc.cred })).map(([k, v]) => [k, String(v)]));
  const res = await fetch(`${svc.url}${p}?${new URLSearchParams(query)}`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/csv');
  return (await res.text()).trim().split('\n').map(parseCsvLine);
}

/** One CSV line: fields split on commas outside double quotes, "" inside quotes is a quote. */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
