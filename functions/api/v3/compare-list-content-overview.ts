import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { lineOverviewV3 } from '../../../lib/dialects/v3/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { Id, Limit, Offset, Single } from '../../../lib/validation.js';

export const ListContentOverviewRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id, compare_job_id: Id }), query: z.object({ offset: Single(Offset), limit: Single(Limit(1000, 10)) }).strict() });

/** SDK ListContentCompareOverview: a content compare's results per database. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ListContentOverviewRequest, async ({ path, query }, ctx) => {
    const d = deps();
    await getJob(ctx.projectId, path.job_id, d);
    const task = await d.compares.requireTask({ projectId: ctx.projectId, jobId: path.job_id }, path.compare_job_id);
    const r = await lineOverviewV3(task, undefined, query.offset, query.limit, d);
    return { total_count: r.total_count, content_compare_result_infos: r.items.map(({ source_db_name, target_db_name, ...rest }) => ({ source_db: source_db_name, target_db: target_db_name, ...rest })) };
  });

export const handler = makeHandler();
