import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchStructProcessV3 } from '../../../lib/dialects/v3/dr.js';
import { JobIdsBody } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.4.3: initialization (schema + full load) progress per object type. */
export const BatchListStructProcessRequest = z.object({ body: JobIdsBody });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchListStructProcessRequest, async ({ body }, ctx) => batchStructProcessV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
