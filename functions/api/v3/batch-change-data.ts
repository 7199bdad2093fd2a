import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchTransformationV3 } from '../../../lib/dialects/v3/config.js';
import { TransformationV3 } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.3.1: a row filter (parsed SQL condition) on selected tables. */
export const BatchChangeDataRequest = z.object({ body: z.object({ jobs: z.array(TransformationV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchChangeDataRequest, async ({ body }, ctx) => batchTransformationV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
