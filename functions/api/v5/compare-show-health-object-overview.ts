import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { InvalidParameterError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { Id } from '../../../lib/validation.js';

export const ShowHealthObjectOverviewRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id, compare_job_id: Id }), query: z.object({}).strict() });

/** SDK ShowHealthObjectCompareJobOverview: an object compare's counts per type; status 0 inconsistent, 2 consistent, 3 unfinished. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ShowHealthObjectOverviewRequest, async ({ path }, ctx) => {
    const d = deps();
    await getJob(ctx.projectId, path.job_id, d);
    const task = await d.compares.requireTask({ projectId: ctx.projectId, jobId: path.job_id }, path.compare_job_id);
    if (task.type !== 'object') throw new InvalidParameterError('compare_job_id', `${task.id} is a ${task.type} compare, not an object compare`);
    return { compare_result: (task.objectOverview ?? []).map((o) => ({ type: o.type, source_count: o.sourceCount, target_count: o.targetCount, status: o.status === 'CONSISTENT' ? 2 : 0 })) };
  });

export const handler = makeHandler();
