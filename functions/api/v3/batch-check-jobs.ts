import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchPrecheckV3, PrecheckItemV3 } from '../../../lib/dialects/v3/lifecycle.js';

/** Seed 6.1.6: the precheck runs in the workflow; poll batch-precheck-result with the job id. */
export const BatchCheckJobsRequest = z.object({ body: z.object({ jobs: z.array(PrecheckItemV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchCheckJobsRequest, async ({ body }, ctx) => batchPrecheckV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
