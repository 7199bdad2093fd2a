import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { monitoringDataV3 } from '../../../lib/dialects/v3/dr.js';
import { JobIdsBody } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.4.2: DR monitoring (positions, delays, rates) from what the job measures. */
export const ShowMonitoringDataRequest = z.object({ body: JobIdsBody });

export const makeHandler = (deps = jobDeps) => apiHandler(ShowMonitoringDataRequest, async ({ body }, ctx) => monitoringDataV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
