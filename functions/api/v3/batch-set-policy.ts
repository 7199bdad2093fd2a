import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchSyncPolicyV3 } from '../../../lib/dialects/v3/config.js';
import { SyncPolicyV3 } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.3.2: conflict policy, DDL filtering, index sync, and an INCR_TRANS job's start position. */
export const BatchSetPolicyRequest = z.object({ body: z.object({ jobs: z.array(SyncPolicyV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchSetPolicyRequest, async ({ body }, ctx) => batchSyncPolicyV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
