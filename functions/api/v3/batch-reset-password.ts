import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchModifyPasswordV3, ModifyPwdItemV3 } from '../../../lib/dialects/v3/config.js';

/** Seed 6.1.15: a new source/target password, encrypted; used from the job's next connection. */
export const BatchResetPasswordRequest = z.object({ body: z.object({ jobs: z.array(ModifyPwdItemV3).min(1).max(20) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchResetPasswordRequest, async ({ body }, ctx) => batchModifyPasswordV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
