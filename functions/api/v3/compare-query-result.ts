import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { QueryCompareResultBodyV3, queryCompareResultV3 } from '../../../lib/dialects/v3/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';

export const QueryCompareResultRequest = z.object({ body: QueryCompareResultBodyV3 });

/** Seed 6.1.18 (SDK ListCompareResult): object-, line- and content-level results, and the job's compare list. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(QueryCompareResultRequest, async ({ body }, ctx) => {
    const d = deps();
    const job = await getJob(ctx.projectId, body.job_id, d);
    return queryCompareResultV3(ctx.projectId, body, job.source.dbType, d);
  });

export const handler = makeHandler();
