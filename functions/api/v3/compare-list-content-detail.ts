import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { contentTableResultV3, tablesV3 } from '../../../lib/dialects/v3/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { page } from '../../../lib/paging.js';
import { Id, Limit, Offset, SafeText, Single } from '../../../lib/validation.js';

export const ListContentDetailRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id, compare_job_id: Id }),
  query: z
    .object({
      target_db_name: Single(SafeText(128)).optional(),
      db_name: Single(SafeText(128)).optional(),
      type: Single(z.enum(['compare', 'unCompare', 'uncompare'])).optional(),
      offset: Single(Offset),
      limit: Single(Limit(1000, 10)),
    })
    .strict(),
});

/** SDK ListContentCompareDetail: per-table content results (type=compare) or the tables that could not be compared (unCompare). */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ListContentDetailRequest, async ({ path, query }, ctx) => {
    const d = deps();
    await getJob(ctx.projectId, path.job_id, d);
    const task = await d.compares.requireTask({ projectId: ctx.projectId, jobId: path.job_id }, path.compare_job_id);
    const p = page(await tablesV3(task, { ...query, type: query.type ?? 'compare' }, d), query.offset, query.limit);
    return { total_count: p.total, content_compare_result_infos: p.items.map((t) => contentTableResultV3(t, task)) };
  });

export const handler = makeHandler();
