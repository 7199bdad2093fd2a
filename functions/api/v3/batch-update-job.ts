import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchModifyV3 } from '../../../lib/dialects/v3/config.js';
import { ModifyJobV3 } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.1.4: names, descriptions, notifications; with store_db_info the tested endpoints. */
export const BatchUpdateJobRequest = z.object({ body: z.object({ jobs: z.array(ModifyJobV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchUpdateJobRequest, async ({ body }, ctx) => batchModifyV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
