import { z } from 'zod';
import { ActionV5, runActionV5 } from '../../../lib/dialects/v5/actions.js';
import { InvalidParameterError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { reply } from '../../../lib/http/envelope.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Id } from '../../../lib/validation.js';

export const ExecuteJobActionRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), body: z.object({ job: ActionV5 }).strict() });

export const makeHandler = (deps = jobDeps) =>
  apiHandler(ExecuteJobActionRequest, async ({ path, body }, ctx) => {
    if (body.job.job_id && body.job.job_id !== path.job_id) throw new InvalidParameterError('job.job_id', 'differs from the job id in the path');
    const out = await runActionV5(ctx.projectId, path.job_id, body.job, deps());
    return reply(out.async ? 202 : 200, out.body);
  });

export const handler = makeHandler();
