import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { lineOverviewV3 } from '../../../lib/dialects/v3/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { Id, Limit, Offset, Single } from '../../../lib/validation.js';

export const ListLineOverviewRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id, compare_job_id: Id }),
  query: z.object({ status: Single(z.coerce.number().int().min(0).max(99)).optional(), offset: Single(Offset), limit: Single(Limit(1000, 10)) }).strict(),
});

/** SDK ListDataCompareOverview: a compare's results per database (status codes, table counts). */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ListLineOverviewRequest, async ({ path, query }, ctx) => {
    const d = deps();
    await getJob(ctx.projectId, path.job_id, d);
    const task = await d.compares.requireTask({ projectId: ctx.projectId, jobId: path.job_id }, path.compare_job_id);
    const r = await lineOverviewV3(task, query.status, query.offset, query.limit, d);
    return { total_count: r.total_count, data_compare_overview_infos: r.items };
  });

export const handler = makeHandler();
