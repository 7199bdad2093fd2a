import { z } from 'zod';
import { quotasV3 } from '../../../lib/dialects/v3/jobs.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';

export const ShowQuotasRequest = z.object({ query: z.object({}).strict() });

/** Seed 5.1.1: the job quota createJob enforces (QuotaExceededError, DRS.M00105) and how much is used. */
export const makeHandler = (deps = jobDeps) => apiHandler(ShowQuotasRequest, async (_input, ctx) => quotasV3(ctx.projectId, deps()));

export const handler = makeHandler();
