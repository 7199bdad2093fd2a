import { z } from 'zod';
import { AppError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { deleteJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Id } from '../../../lib/validation.js';

export const BatchDeleteJobsRequest = z.object({ body: z.object({ jobs: z.array(Id).min(1).max(100) }).strict() });

/** DELETE with a JSON body; per-job outcome, HTTP 200 even when some fail. */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(BatchDeleteJobsRequest, async ({ body }, ctx) => {
    const jobs = [];
    for (const id of body.jobs) {
      try {
        const job = await deleteJob(ctx.projectId, id, deps());
        jobs.push({ id, name: job.name, status: 'Success', error_code: '', error_msg: '' });
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        jobs.push({ id, name: '', status: 'Failed', error_code: e.codes.v5, error_msg: e.message });
      }
    }
    return { jobs };
  });

export const handler = makeHandler();
