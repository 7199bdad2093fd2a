import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobActions } from '../../../lib/job/actions.js';
import { getJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { Id } from '../../../lib/validation.js';

export const ShowActionsRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }) });

export const makeHandler = (deps = jobDeps) =>
  apiHandler(ShowActionsRequest, async ({ path }, ctx) => ({ job_action: jobActions(await getJob(ctx.projectId, path.job_id, deps())) }));

export const handler = makeHandler();
