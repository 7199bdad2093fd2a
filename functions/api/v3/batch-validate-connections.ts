import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchConnectionV3, type ConnectionDeps } from '../../../lib/dialects/v3/config.js';
import { TestEndpointV3 } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.1.2: each item tests one endpoint of a job now (10 s connect timeout); `success` per item. */
export const BatchValidateConnectionsRequest = z.object({ body: z.object({ jobs: z.array(TestEndpointV3).min(1).max(10) }).strict() });

export const makeHandler = (deps: () => ConnectionDeps = jobDeps) => apiHandler(BatchValidateConnectionsRequest, async ({ body }, ctx) => batchConnectionV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
