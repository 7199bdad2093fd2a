import { z } from 'zod';
import { tuningParamsV3 } from '../../../lib/dialects/v3/params.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Id } from '../../../lib/validation.js';

export const QueryTuningParamsRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), query: z.object({}).strict() });

/** SDK QueryTuningParams: the effective copy/apply settings of the job (fixed here: availability "false"). */
export const makeHandler = (deps = jobDeps) => apiHandler(QueryTuningParamsRequest, async ({ path }, ctx) => tuningParamsV3(ctx.projectId, path.job_id, deps()));

export const handler = makeHandler();
