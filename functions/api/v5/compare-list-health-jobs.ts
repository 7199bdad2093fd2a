import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { healthCompareJobV5 } from '../../../lib/dialects/v5/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { page } from '../../../lib/paging.js';
import { Id, Limit, Offset, Single } from '../../../lib/validation.js';

const STATUSES = ['WAITING_FOR_RUNNING', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELLED', 'TIMEOUT_INTERRUPT', 'FULL_DOING', 'INCRE_DOING'] as const;

export const ListHealthCompareJobsRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id }),
  query: z.object({ status: Single(z.enum(STATUSES)).optional(), offset: Single(Offset), limit: Single(Limit(1000, 10)) }).strict(),
});

/** Seed 7.7.2: the compares the periodic policy ran, newest first. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ListHealthCompareJobsRequest, async ({ path, query }, ctx) => {
    const d = deps();
    await getJob(ctx.projectId, path.job_id, d);
    const tasks = (await d.compares.listTasks({ projectId: ctx.projectId, jobId: path.job_id })).filter((t) => t.origin === 'policy' && (!query.status || t.status === query.status));
    const p = page(tasks, query.offset, query.limit);
    return { count: p.total, compare_jobs: p.items.map(healthCompareJobV5) };
  });

export const handler = makeHandler();
