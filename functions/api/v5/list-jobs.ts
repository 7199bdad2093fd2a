import { z } from 'zod';
import { jobListItemV5 } from '../../../lib/dialects/v5/render.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { listJobs } from '../../../lib/job/queries.js';
import { JOB_STATUSES } from '../../../lib/job/transitions.js';
import { Limit, Offset, SafeText, Single } from '../../../lib/validation.js';

const StatusList = z
  .string()
  .max(512)
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.enum(JOB_STATUSES)).max(30));

export const ListJobsRequest = z.object({
  query: z
    .object({
      job_type: Single(z.enum(['migration', 'sync', 'cloudDataGuard'])),
      name: Single(SafeText(64)).optional(),
      status: Single(StatusList).optional(),
      engine_type: Single(SafeText(64)).optional(),
      net_type: Single(z.enum(['eip', 'vpc', 'vpn'])).optional(),
      enterprise_project_id: Single(SafeText(64)).optional(),
      offset: Single(Offset),
      limit: Single(Limit(1000, 10)),
      sort_key: Single(z.enum(['create_time', 'name', 'status'])).default('create_time'),
      sort_dir: Single(z.enum(['asc', 'desc'])).default('desc'),
      instance_ids: z.union([SafeText(128), z.array(SafeText(128)).max(10)]).optional(),
      instance_ip: Single(SafeText(255)).optional(),
    })
    .strict(),
});

export const makeHandler = (deps = jobDeps) =>
  apiHandler(ListJobsRequest, async ({ query }, ctx) => {
    const page = await listJobs(ctx.projectId, { ...query, jobType: query.job_type, engineType: query.engine_type, netType: query.net_type, instanceIds: query.instance_ids === undefined ? undefined : [query.instance_ids].flat() }, deps());
    return { total_count: page.total, jobs: page.items.map(jobListItemV5) };
  });

export const handler = makeHandler();
