import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { deleteJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Id } from '../../../lib/validation.js';

export const DeleteJobRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }) });

export const makeHandler = (deps = jobDeps) =>
  apiHandler(DeleteJobRequest, async ({ path }, ctx) => {
    await deleteJob(ctx.projectId, path.job_id, deps());
    return {};
  });

export const handler = makeHandler();
