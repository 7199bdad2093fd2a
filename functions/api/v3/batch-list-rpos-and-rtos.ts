import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchRpoRtoV3 } from '../../../lib/dialects/v3/dr.js';
import { JobIdsBody } from '../../../lib/dialects/v3/schemas.js';

/** Seed 5.3.1: RPO/RTO of DR jobs from the measured lag and the committed position (202). */
export const BatchListRposAndRtosRequest = z.object({ body: JobIdsBody });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchListRposAndRtosRequest, async ({ body }, ctx) => batchRpoRtoV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
