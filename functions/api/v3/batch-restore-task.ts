import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchRetryV3, RetryItemV3 } from '../../../lib/dialects/v3/lifecycle.js';

/** Seed 6.1.12: resume a paused job or retry a failed one from its checkpoints. */
export const BatchRestoreTaskRequest = z.object({ body: z.object({ jobs: z.array(RetryItemV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchRestoreTaskRequest, async ({ body }, ctx) => batchRetryV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
