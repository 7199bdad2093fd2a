import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { compareJobInfoV3 } from '../../../lib/dialects/v3/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { page } from '../../../lib/paging.js';
import { Id, Limit, Offset, Single } from '../../../lib/validation.js';

export const ListTableCompareJobsRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), query: z.object({ offset: Single(Offset), limit: Single(Limit(1000, 10)) }).strict() });

/** SDK ListDataLevelTableCompareJobs: the job's row-count and content compares, newest first. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ListTableCompareJobsRequest, async ({ path, query }, ctx) => {
    const d = deps();
    await getJob(ctx.projectId, path.job_id, d);
    const tasks = (await d.compares.listTasks({ projectId: ctx.projectId, jobId: path.job_id })).filter((t) => t.type !== 'object');
    const p = page(tasks, query.offset, query.limit);
    return { compare_jobs: p.items.map(compareJobInfoV3), count: p.total };
  });

export const handler = makeHandler();
