import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { jobOfType, ResourceType } from '../../../lib/dialects/v5/tags.js';
import { Id } from '../../../lib/validation.js';

export const ShowInstanceTagsRequest = z.object({ path: z.object({ project_id: z.string(), resource_type: ResourceType, job_id: Id }) });

/** Seed 7.11.3: a job's tags. */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(ShowInstanceTagsRequest, async ({ path }, ctx) => ({ tags: (await jobOfType(ctx.projectId, path.job_id, path.resource_type, deps())).tags }));

export const handler = makeHandler();
