import { z } from 'zod';
import { createCompare } from '../../../lib/compare/commands.js';
import { compareDeps } from '../../../lib/compare/deps.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { Id } from '../../../lib/validation.js';

export const CreateObjectCompareJobRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id }),
  body: z.object({ compare_task_num: z.number().int().min(1).max(64).optional() }).strict().optional(),
});

/** SDK CreateObjectLevelCompareJob: start an object compare (the SDK reads no body; the task id is returned). */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(CreateObjectCompareJobRequest, async ({ path }, ctx) => {
    const { task } = await createCompare(ctx.projectId, path.job_id, { type: 'object', origin: 'v3' }, deps());
    return { id: task.id, status: 'success' };
  });

export const handler = makeHandler();
