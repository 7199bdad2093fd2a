import { z } from 'zod';
import { ModifyParamsBodyV3, modifyParamsV3 } from '../../../lib/dialects/v3/params.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { Id } from '../../../lib/validation.js';
import { paramsDeps } from './batch-show-params.js';

export const UpdateParamsRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), body: ModifyParamsBodyV3 });

/** Seed 6.1.10: dynamic parameters changed on the target for real (SET GLOBAL / ALTER SYSTEM), after a comparison (202). */
export const makeHandler = (deps = paramsDeps) => apiHandler(UpdateParamsRequest, async ({ path, body }, ctx) => modifyParamsV3(ctx.projectId, path.job_id, body, deps()));

export const handler = makeHandler();
