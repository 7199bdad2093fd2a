import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchDetailV3 } from '../../../lib/dialects/v3/jobs.js';
import { JobIdsPagedBody } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.1.20: QueryJobResp per job; unknown jobs are per-item DRS.M00289 (a 400 when none exists). */
export const BatchListJobDetailsRequest = z.object({ body: JobIdsPagedBody });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchListJobDetailsRequest, async ({ body }, ctx) => batchDetailV3(ctx.projectId, body.jobs, body.page_req, deps()));

export const handler = makeHandler();
