import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { comparePolicyV5 } from '../../../lib/dialects/v5/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { Id } from '../../../lib/validation.js';

export const ShowComparePolicyRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), query: z.object({}).strict() });

/** Seed 7.7.1: the periodic compare policy (CLOSED when none was set). */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ShowComparePolicyRequest, async ({ path }, ctx) => {
    const d = deps();
    await getJob(ctx.projectId, path.job_id, d);
    return comparePolicyV5(await d.compares.getPolicy({ projectId: ctx.projectId, jobId: path.job_id }));
  });

export const handler = makeHandler();
