import { z } from 'zod';
import { deleteCompare } from '../../../lib/compare/commands.js';
import { compareDeps } from '../../../lib/compare/deps.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { Id } from '../../../lib/validation.js';

export const DeleteCompareJobRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id, compare_job_id: Id }), body: z.unknown().optional() });

/** SDK DeleteCompareJob: cancel the compare if it runs, and delete it with its results. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(DeleteCompareJobRequest, async ({ path }, ctx) => {
    await deleteCompare(ctx.projectId, path.job_id, path.compare_job_id, deps());
    return { id: path.compare_job_id, status: 'success' };
  });

export const handler = makeHandler();
