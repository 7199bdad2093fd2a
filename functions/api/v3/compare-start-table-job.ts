import { z } from 'zod';
import { startCompareNow } from '../../../lib/compare/commands.js';
import { compareDeps } from '../../../lib/compare/deps.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { Id } from '../../../lib/validation.js';

export const StartTableCompareJobRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id, compare_job_id: Id }), body: z.object({}).strict().optional() });

/** SDK StartPromptlyDataLevelTableCompareJob: a compare waiting for its start time starts now. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(StartTableCompareJobRequest, async ({ path }, ctx) => {
    const task = await startCompareNow(ctx.projectId, path.job_id, path.compare_job_id, deps());
    return { id: task.id, status: 'success' };
  });

export const handler = makeHandler();
