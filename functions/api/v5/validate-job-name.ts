import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { validateJobName } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { JobName } from '../../../lib/validation.js';

export const ValidateJobNameRequest = z.object({ body: z.object({ name: z.string().max(256), type: z.enum(['trans', 'subscription', 'offline']) }).strict() });

/** Format and uniqueness; an invalid or taken name is `is_valid: false` with the reason (seed DRS.M00277). */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(ValidateJobNameRequest, async ({ body }, ctx) => {
    const format = JobName.safeParse(body.name);
    if (!format.success) return { is_valid: false, error_code: 'DRS.10020002', error_msg: `The value of parameter name is invalid: ${format.error.issues[0].message}` };
    if (!(await validateJobName(ctx.projectId, body.name, deps()))) return { is_valid: false, error_code: 'DRS.M00277', error_msg: 'The task name already exists.' };
    return { is_valid: true, error_code: '', error_msg: '' };
  });

export const handler = makeHandler();
