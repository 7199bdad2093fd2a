import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchProgressV3 } from '../../../lib/dialects/v3/jobs.js';
import { JobIdsBody } from '../../../lib/dialects/v3/schemas.js';

/** Seed 5.2.2: percent, incremental delay (s and ms; -1 before incremental), struct/data/index map. */
export const BatchListProgressesRequest = z.object({ body: JobIdsBody });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchListProgressesRequest, async ({ body }, ctx) => batchProgressV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
