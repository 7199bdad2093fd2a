import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchLimitSpeedV3 } from '../../../lib/dialects/v3/config.js';
import { LimitSpeedV3 } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.1.8: up to 3 UTC windows per job, enforced by the copy and apply loops; [] = unlimited. */
export const BatchSetSpeedRequest = z.object({ body: z.object({ speed_limits: z.array(LimitSpeedV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchSetSpeedRequest, async ({ body }, ctx) => batchLimitSpeedV3(ctx.projectId, body.speed_limits, deps()));

export const handler = makeHandler();
