/**
 * v3 job creation and the read side (seed 6.1.1, 6.1.19–6.1.21, 5.1.1, 5.2.2): batch-creation,
 * the job list (POST /jobs), batch-detail, batch-status, batch-progress and quotas. Each is one
 * call into the domain per job; the v3 shapes come from render.ts.
 */
import { z } from 'zod';
import { InvalidParameterError } from '../../errors.js';
import type { Reply } from '../../http/envelope.js';
import { createJob, DEFAULT_MAX_JOBS, getJob, type JobDeps } from '../../job/commands.js';
import { jobProgress, listJobs } from '../../job/queries.js';
import { JOB_STATUSES } from '../../job/transitions.js';
import { SafeText } from '../../validation.js';
import { itemError, pageIds, runBatch } from './batch.js';
import { jobDetailV3, jobListItemV3, ms, progressV3, statusV3 } from './render.js';
import { jobSpecFromV3, ResourceTagV3, type CreateJobV3 } from './schemas.js';

export async function batchCreateV3(projectId: string, items: CreateJobV3[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    items,
    async (item) => {
      const job = await createJob(projectId, jobSpecFromV3(item), deps, 'v3');
      return { id: job.id, name: job.name, status: job.status, create_time: ms(job.createTime), error_code: '', error_msg: '' };
    },
    (item, e) => ({ id: '', name: item.name, status: '', ...itemError(e) }),
    { status: 202 },
  );
}

export async function batchStatusV3(projectId: string, ids: string[], page: { cur_page?: number; per_page?: number } | undefined, deps: JobDeps): Promise<Reply> {
  return runBatch(pageIds(ids, page), async (id) => statusV3(await getJob(projectId, id, deps)), (id, e) => ({ id, status: '', ...itemError(e, 'error_message') }), { status: 200, count: ids.length });
}

export async function batchDetailV3(projectId: string, ids: string[], page: { cur_page?: number; per_page?: number } | undefined, deps: JobDeps): Promise<Reply> {
  return runBatch(pageIds(ids, page), async (id) => jobDetailV3(await getJob(projectId, id, deps)), (id, e) => ({ id, ...itemError(e, 'error_message') }), { status: 200, count: ids.length });
}

export async function batchProgressV3(projectId: string, ids: string[], deps: JobDeps): Promise<Reply> {
  return runBatch(
    ids,
    async (id) => {
      const job = await getJob(projectId, id, deps);
      return progressV3(job, await jobProgress(job, deps));
    },
    (id, e) => ({ job_id: id, ...itemError(e) }),
    { status: 202 },
  );
}

export const ListJobsBodyV3 = z
  .object({
    cur_page: z.number().int().min(0).max(1_000_000).default(1),
    per_page: z.number().int().min(0).max(100).default(10),
    db_use_type: z.enum(['migration', 'sync', 'cloudDataGuard']),
    engine_type: SafeText(64).optional(),
    enterprise_project_id: SafeText(64).min(1, 'must not be empty (omit it instead)').optional(),
    name: SafeText(4096).optional(),
    net_type: z.enum(['vpn', 'vpc', 'eip']).optional(),
    service_name: SafeText(64).optional(),
    status: z.enum(JOB_STATUSES).optional(),
    tags: z.union([z.record(z.string().max(128), z.string().max(255)), z.array(ResourceTagV3).max(20).transform((l) => Object.fromEntries(l.map((t) => [t.key, t.value])))]).optional(),
    instance_ids: z.array(SafeText(128)).max(10).optional(),
    instance_ip: SafeText(255).optional(),
  })
  .strict()
  .refine((b) => b.per_page !== 0 || b.cur_page <= 1, { message: 'must be 0 or 1 when per_page is 0', path: ['cur_page'] });
export type ListJobsBodyV3 = z.infer<typeof ListJobsBodyV3>;

/** POST /v3/{project_id}/jobs: filtered, newest first; `name` is a name fragment or a comma list of ids/names. */
export async function listJobsV3(projectId: string, b: ListJobsBodyV3, deps: Pick<JobDeps, 'jobs'>) {
  const names = b.name?.split(',').map((s) => s.trim()).filter(Boolean);
  if (names && names.length > 100) throw new InvalidParameterError('name', 'at most 100 comma-separated names or ids');
  const all = b.per_page === 0 || b.cur_page === 0;
  const page = await listJobs(
    projectId,
    {
      jobType: b.db_use_type,
      name: names?.length ? names : undefined,
      status: b.status ? [b.status] : undefined,
      engineType: b.engine_type,
      netType: b.net_type,
      enterprise_project_id: b.enterprise_project_id,
      tags: b.tags,
      instanceIds: b.instance_ids,
      instance_ip: b.instance_ip || undefined,
      offset: all ? 0 : (b.cur_page - 1) * b.per_page,
      limit: all ? undefined : b.per_page,
      sort_key: 'create_time',
      sort_dir: 'desc',
    },
    deps,
  );
  return { total_record: page.total, jobs: page.items.map(jobListItemV3) };
}

/** GET quotas: the job quota the domain enforces in createJob (QuotaExceededError), and its use. */
export async function quotasV3(projectId: string, deps: Pick<JobDeps, 'jobs' | 'maxJobsPerProject'>) {
  const max = deps.maxJobsPerProject ?? DEFAULT_MAX_JOBS;
  const used = (await deps.jobs.listSummaries(projectId)).length;
  return { quotas: { resource: { type: 'instances', min: 0, max, quota: max, used } } };
}
