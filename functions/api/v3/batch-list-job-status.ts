import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchStatusV3 } from '../../../lib/dialects/v3/jobs.js';
import { JobIdsPagedBody } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.1.21: the light polling endpoint; `error_code`/`error_message` only for a failed job. */
export const BatchListJobStatusRequest = z.object({ body: JobIdsPagedBody });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchListJobStatusRequest, async ({ body }, ctx) => batchStatusV3(ctx.projectId, body.jobs, body.page_req, deps()));

export const handler = makeHandler();
