import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { contentDifferenceV3 } from '../../../lib/dialects/v3/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { Id, Limit, Offset, SafeText, Single } from '../../../lib/validation.js';

export const ListContentDifferenceRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id, compare_job_id: Id }),
  query: z.object({ table_name: Single(SafeText(128)).optional(), db_name: Single(SafeText(128)).optional(), offset: Single(Offset), limit: Single(Limit(1000, 10)) }).strict(),
});

/** SDK ListContentCompareDifference: the differing rows (keys and select statements), with counts by kind. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ListContentDifferenceRequest, async ({ path, query }, ctx) => {
    const d = deps();
    const job = await getJob(ctx.projectId, path.job_id, d);
    const task = await d.compares.requireTask({ projectId: ctx.projectId, jobId: path.job_id }, path.compare_job_id);
    return contentDifferenceV3(job.source.dbType, task, query, query.offset, query.limit, d);
  });

export const handler = makeHandler();
