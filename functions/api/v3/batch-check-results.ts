import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchPrecheckResultV3 } from '../../../lib/dialects/v3/lifecycle.js';
import { JobIds } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.1.7: `process` reaches "100%"; `total_passed_rate` "100%" and `result` true mean the job may start. */
export const BatchCheckResultsRequest = z.object({ body: z.object({ jobs: JobIds }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchCheckResultsRequest, async ({ body }, ctx) => batchPrecheckResultV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
