import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchReplaceDefinerV3, DefinerItemV3 } from '../../../lib/dialects/v3/config.js';

/** Seed 6.1.16: stored with the policy; the schema copy gives views, routines, triggers and events the migration user (true) or the source definers (false). */
export const BatchSetDefinerRequest = z.object({ body: z.object({ jobs: z.array(DefinerItemV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchSetDefinerRequest, async ({ body }, ctx) => batchReplaceDefinerV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
