import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { projectTags, ResourceType } from '../../../lib/dialects/v5/tags.js';

export const ListProjectTagsRequest = z.object({ path: z.object({ project_id: z.string(), resource_type: ResourceType }) });

/** Seed 7.11.2: every tag key used by the project's jobs of this type, with its values. */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(ListProjectTagsRequest, async ({ path }, ctx) => ({ tags: await projectTags(ctx.projectId, path.resource_type, deps()) }));

export const handler = makeHandler();
