import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { objectDetailListV3 } from '../../../lib/dialects/v3/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { Id, Limit, Offset, SafeText, Single } from '../../../lib/validation.js';

export const ListObjectCompareDetailRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id, compare_type: SafeText(32).min(1) }),
  query: z.object({ compare_job_id: Single(Id).optional(), offset: Single(Offset), limit: Single(Limit(1000, 10)) }).strict(),
});

/** SDK ListObejectLevelCompareDetail (sic): the differences of one object type (DB, TABLE, INDEX) of an object compare (default: the newest). */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ListObjectCompareDetailRequest, async ({ path, query }, ctx) => objectDetailListV3(ctx.projectId, path.job_id, path.compare_type, query.compare_job_id, query.offset, query.limit, deps()));

export const handler = makeHandler();
