import { z } from 'zod';
import { ModifyTuningBodyV3, modifyTuningParamsV3 } from '../../../lib/dialects/v3/params.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Id } from '../../../lib/validation.js';

export const UpdateTuningParamsRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), body: ModifyTuningBodyV3 });

/** Seed 6.3.3: refused with a clear 400: this deployment's tuning settings are fixed (see query-params). */
export const makeHandler = (deps = jobDeps) => apiHandler(UpdateTuningParamsRequest, async ({ path }, ctx) => modifyTuningParamsV3(ctx.projectId, path.job_id, deps()));

export const handler = makeHandler();
