import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { compareProgressV5 } from '../../../lib/dialects/v5/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { Id } from '../../../lib/validation.js';

export const ShowCompareProgressRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id, compare_job_id: Id }), query: z.object({}).strict() });

/** SDK ShowCompareProgress: how far a compare is (work items done), how fast, and the job's incremental lag. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ShowCompareProgressRequest, async ({ path }, ctx) => {
    const d = deps();
    await getJob(ctx.projectId, path.job_id, d);
    const task = await d.compares.requireTask({ projectId: ctx.projectId, jobId: path.job_id }, path.compare_job_id);
    return compareProgressV5(task, d);
  });

export const handler = makeHandler();
