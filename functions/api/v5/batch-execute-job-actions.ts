import { z } from 'zod';
import { ActionV5, runBatchActionsV5 } from '../../../lib/dialects/v5/actions.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { reply } from '../../../lib/http/envelope.js';
import { jobDeps } from '../../../lib/job/deps.js';

export const BatchExecuteJobActionsRequest = z.object({ body: z.object({ jobs: z.array(ActionV5).min(1).max(100) }).strict() });

export const makeHandler = (deps = jobDeps) =>
  apiHandler(BatchExecuteJobActionsRequest, async ({ body }, ctx) => {
    const out = await runBatchActionsV5(ctx.projectId, body.jobs, deps());
    return reply(out.anyAsync ? 202 : 200, { jobs: out.jobs });
  });

export const handler = makeHandler();
