import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchSelectObjectsV3 } from '../../../lib/dialects/v3/config.js';
import { SelectObjectsV3 } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.1.5: object selection (202, `all_counts`, boolean `status` per item). */
export const BatchSetObjectsRequest = z.object({ body: z.object({ jobs: z.array(SelectObjectsV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchSetObjectsRequest, async ({ body }, ctx) => batchSelectObjectsV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
