import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchDeleteV3, DeleteItemV3 } from '../../../lib/dialects/v3/lifecycle.js';

/** Seed 6.1.14: DELETE with a JSON body; terminate, force_terminate or delete per item (202). */
export const BatchDeleteJobsRequest = z.object({ body: z.object({ jobs: z.array(DeleteItemV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchDeleteJobsRequest, async ({ body }, ctx) => batchDeleteV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
