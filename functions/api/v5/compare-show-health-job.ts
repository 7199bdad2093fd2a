import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { healthCompareJobV5 } from '../../../lib/dialects/v5/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { Id } from '../../../lib/validation.js';

export const ShowHealthCompareJobRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id, compare_job_id: Id }), query: z.object({}).strict() });

/** SDK ShowHealthCompareJobDetail: one compare task, with the job's name. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ShowHealthCompareJobRequest, async ({ path }, ctx) => {
    const d = deps();
    const job = await getJob(ctx.projectId, path.job_id, d);
    const task = await d.compares.requireTask({ projectId: ctx.projectId, jobId: path.job_id }, path.compare_job_id);
    const { compute_type: _c, ...rest } = healthCompareJobV5(task);
    return { ...rest, job_name: job.name };
  });

export const handler = makeHandler();
