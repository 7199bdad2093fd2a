import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { reply } from '../../../lib/http/envelope.js';
import { changeTags } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { jobOfType, ResourceType, TagKey, TagValue } from '../../../lib/dialects/v5/tags.js';
import { Id } from '../../../lib/validation.js';

export const BatchTagActionRequest = z.object({
  path: z.object({ project_id: z.string(), resource_type: ResourceType, job_id: Id }),
  body: z.object({ action: z.enum(['create', 'delete']), tags: z.array(z.object({ key: TagKey, value: TagValue.optional() }).strict()).min(1).max(10) }).strict(),
});

/** Seed 7.11.1 (the Terraform provider's tag calls): add or remove a job's tags; 204. */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(BatchTagActionRequest, async ({ path, body }, ctx) => {
    const d = deps();
    await jobOfType(ctx.projectId, path.job_id, path.resource_type, d);
    await changeTags(ctx.projectId, path.job_id, body.action, body.tags, d);
    return reply(204, undefined);
  });

export const handler = makeHandler();
