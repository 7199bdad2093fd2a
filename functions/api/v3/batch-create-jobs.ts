import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchCreateV3 } from '../../../lib/dialects/v3/jobs.js';
import { CreateJobV3 } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.1.1: asynchronous; each job is CREATING (202) and becomes CONFIGURATION (poll batch-status). */
export const BatchCreateJobsRequest = z.object({ body: z.object({ jobs: z.array(CreateJobV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchCreateJobsRequest, async ({ body }, ctx) => batchCreateV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
