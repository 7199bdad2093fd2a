import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchPauseV3, PauseItemV3 } from '../../../lib/dialects/v3/lifecycle.js';

/** Seed 6.1.13: pause running jobs (PAUSING); the running task stops at its next checkpoint. */
export const BatchStopJobsRequest = z.object({ body: z.object({ jobs: z.array(PauseItemV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchStopJobsRequest, async ({ body }, ctx) => batchPauseV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
