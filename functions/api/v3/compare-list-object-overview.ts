import { z } from 'zod';
import { findCompare } from '../../../lib/compare/commands.js';
import { compareDeps } from '../../../lib/compare/deps.js';
import { objectOverviewV3 } from '../../../lib/dialects/v3/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { Id } from '../../../lib/validation.js';

export const ListObjectCompareOverviewRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), query: z.object({}).strict() });

/** SDK ListObejectLevelCompareOverview (sic): the newest object compare's counts per object type. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ListObjectCompareOverviewRequest, async ({ path }, ctx) => objectOverviewV3(await findCompare(ctx.projectId, path.job_id, deps(), undefined, ['object'])));

export const handler = makeHandler();
