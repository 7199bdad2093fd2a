import { z } from 'zod';
import { batchStructDetailV3, STRUCT_TYPES } from '../../../lib/dialects/v3/dr.js';
import { JobIdsPagedBody } from '../../../lib/dialects/v3/schemas.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';

export const BatchListStructDetailRequest = z.object({ path: z.object({ project_id: z.string(), type: z.enum(STRUCT_TYPES) }), body: JobIdsPagedBody });

/** Seed 6.4.4: the objects of one type with their initialization progress. */
export const makeHandler = (deps = jobDeps) => apiHandler(BatchListStructDetailRequest, async ({ path, body }, ctx) => batchStructDetailV3(ctx.projectId, path.type, body.jobs, body.page_req, deps()));

export const handler = makeHandler();
