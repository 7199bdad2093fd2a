import { z } from 'zod';
import { InvalidParameterError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Id, Single } from '../../../lib/validation.js';

export const ShowPositionResultRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), query: z.object({ query_id: Single(Id) }).strict() });

export const makeHandler = (deps = jobDeps) =>
  apiHandler(ShowPositionResultRequest, async ({ path, query }, ctx) => {
    const job = await getJob(ctx.projectId, path.job_id, deps());
    const q = job.positionQuery;
    if (!q || q.id !== query.query_id) throw new InvalidParameterError('query_id', 'no position query of this job has this id');
    return { job_id: job.id, status: q.status, position: q.result?.position ?? '', error_msg: q.error };
  });

export const handler = makeHandler();
