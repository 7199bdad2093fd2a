import { z } from 'zod';
import { iso } from '../../../lib/dialects/v5/render.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { reply } from '../../../lib/http/envelope.js';
import { cloneJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Id, JobName } from '../../../lib/validation.js';

export const CopyJobRequest = z.object({ body: z.object({ job_id: Id, name: JobName, task_version: z.enum(['2.0', '']).optional() }).strict() });

export const makeHandler = (deps = jobDeps) =>
  apiHandler(CopyJobRequest, async ({ body }, ctx) => {
    const job = await cloneJob(ctx.projectId, body.job_id, body.name, deps());
    return reply(202, { id: job.id, name: job.name, status: job.status, create_time: iso(job.createTime), is_clone_job: 'true' });
  });

export const handler = makeHandler();
