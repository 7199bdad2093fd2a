/** Read-side of jobs: filtered lists and computed progress. */
import { containsIgnoreCase, page, sortBy, type Page } from '../paging.js';
import type { JobStore, JobSummary } from '../store/job-store.js';
import type { Job } from './job.js';
import { computeProgress, type JobProgress } from './progress.js';
import type { JobStatus } from './transitions.js';

export interface JobFilter {
  jobType?: string;
  /** Matches the id exactly or the name case-insensitively (seed: "job ID or name"); a list matches any. */
  name?: string | string[];
  /** Every tag key must be present with this value (v3 list `tags`). */
  tags?: Record<string, string>;
  status?: JobStatus[];
  engineType?: string;
  netType?: string;
  enterprise_project_id?: string;
  instanceIds?: string[];
  instance_ip?: string;
  offset: number;
  limit?: number;
  sort_key: 'create_time' | 'name' | 'status';
  sort_dir: 'asc' | 'desc';
}

/**
 * Filter, sort and page on the summaries (one small-item query), then read only the page's jobs.
 * A job whose summary is listed but which is gone by the time it is read is left out.
 */
export async function listJobs(projectId: string, f: JobFilter, deps: { jobs: JobStore }): Promise<Page<Job>> {
  const all = await deps.jobs.listSummaries(projectId);
  const hits = all.filter(
    (j) =>
      (f.jobType === undefined || j.jobType === f.jobType) &&
      (f.name === undefined || [f.name].flat().some((n) => j.id === n || containsIgnoreCase(j.name, n))) &&
      (f.tags === undefined || Object.entries(f.tags).every(([k, v]) => j.tags.some((t) => t.key === k && t.value === v))) &&
      (f.status === undefined || f.status.length === 0 || f.status.includes(j.status)) &&
      (f.engineType === undefined || j.engineType === f.engineType) &&
      (f.netType === undefined || j.netType === f.netType) &&
      (!f.enterprise_project_id || j.enterpriseProjectId === f.enterprise_project_id) &&
      (f.instance_ip === undefined || j.hosts.includes(f.instance_ip)) &&
      (f.instanceIds === undefined || f.instanceIds.some((id) => j.instanceIds.includes(id))),
  );
  const key = (j: JobSummary) => (f.sort_key === 'name' ? j.name.toLowerCase() : f.sort_key === 'status' ? j.status : j.createTime);
  const p = page(sortBy(hits, key, f.sort_dir), f.offset, f.limit);
  const jobs = await Promise.all(p.items.map((s) => deps.jobs.get(projectId, s.id)));
  return { total: p.total, items: jobs.filter((j): j is Job => j !== undefined) };
}

export async function jobProgress(job: Job, deps: { jobs: JobStore }): Promise<JobProgress> {
  const [tables, chunks] = await Promise.all([deps.jobs.listTables(job), deps.jobs.listChunks(job)]);
  return computeProgress(job, tables, chunks);
}
