import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchStartV3, StartItemV3 } from '../../../lib/dialects/v3/lifecycle.js';

/** Seed 6.1.11: start now, or at `start_time` (epoch ms string; WAITING_FOR_START until then). */
export const BatchStartJobsRequest = z.object({ body: z.object({ jobs: z.array(StartItemV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchStartJobsRequest, async ({ body }, ctx) => batchStartV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
