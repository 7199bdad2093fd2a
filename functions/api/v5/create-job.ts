import { z } from 'zod';
import { CreateJobBodyV5, jobSpecFromV5 } from '../../../lib/dialects/v5/schemas.js';
import { iso } from '../../../lib/dialects/v5/render.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { createJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';

export const CreateJobRequest = z.object({ body: CreateJobBodyV5 });

/** Asynchronous: the job is CREATING and becomes CONFIGURATION. `id` at top level (SDK, Terraform) and in `job` (seed). */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(CreateJobRequest, async ({ body }, ctx) => {
    const job = await createJob(ctx.projectId, jobSpecFromV5(body), deps(), 'v5');
    const out = { id: job.id, name: job.name, status: job.status, create_time: iso(job.createTime), is_clone_job: 'false' };
    return { ...out, job: out };
  });

export const handler = makeHandler();
