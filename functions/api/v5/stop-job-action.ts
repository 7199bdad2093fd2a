import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { terminateJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Bool, Id } from '../../../lib/validation.js';

export const StopJobActionRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), body: z.object({ is_force_stop: Bool.optional() }).strict().optional() });

/** `/stop` ends (terminates) the job, unlike action_name `stop`, which pauses it (seed J.25). */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(StopJobActionRequest, async ({ path, body }, ctx) => {
    const job = await terminateJob(ctx.projectId, path.job_id, deps(), body?.is_force_stop === true);
    return { error_code: '', error_msg: '', id: job.id, name: job.name, status: 'success' };
  });

export const handler = makeHandler();
