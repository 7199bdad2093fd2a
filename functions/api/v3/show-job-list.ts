import { z } from 'zod';
import { listJobsV3, ListJobsBodyV3 } from '../../../lib/dialects/v3/jobs.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';

export const ShowJobListRequest = z.object({ body: ListJobsBodyV3 });

/** Seed 6.1.19: POST /jobs is the job LIST (not create): filters, cur_page/per_page (0 = all), newest first. */
export const makeHandler = (deps = jobDeps) => apiHandler(ShowJobListRequest, async ({ body }, ctx) => listJobsV3(ctx.projectId, body, deps()));

export const handler = makeHandler();
