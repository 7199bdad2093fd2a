import { z } from 'zod';
import { AppError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { terminateJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Bool, Id } from '../../../lib/validation.js';

export const BatchStopJobsRequest = z.object({ body: z.object({ jobs: z.array(z.object({ job_id: Id, is_force_stop: Bool.optional() }).strict()).min(1).max(100) }).strict() });

export const makeHandler = (deps = jobDeps) =>
  apiHandler(BatchStopJobsRequest, async ({ body }, ctx) => {
    const jobs = [];
    for (const item of body.jobs) {
      try {
        const job = await terminateJob(ctx.projectId, item.job_id, deps(), item.is_force_stop === true);
        jobs.push({ id: job.id, name: job.name, status: 'success', error_code: '', error_msg: '' });
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        jobs.push({ id: item.job_id, name: '', status: 'failed', error_code: e.codes.v5, error_msg: e.message });
      }
    }
    return { jobs };
  });

export const handler = makeHandler();
