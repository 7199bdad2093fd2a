import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { reply } from '../../../lib/http/envelope.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { collectPosition } from '../../../lib/steps/positions.js';
import { Id } from '../../../lib/validation.js';

export const CollectPositionRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id }),
  body: z.object({ reset_position_time: z.string().max(40) }).strict(),
});

/** Seed 7.6.2: read the source's replication position; the result is kept under the returned id. */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(CollectPositionRequest, async ({ path, body }, ctx) => {
    const q = await collectPosition(ctx.projectId, path.job_id, body.reset_position_time, deps());
    return reply(202, { id: q.id, job_id: path.job_id, status: q.status });
  });

export const handler = makeHandler();
