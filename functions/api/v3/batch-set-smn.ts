import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchSetSmnV3, SetSmnBodyV3 } from '../../../lib/dialects/v3/config.js';

/** Seed 6.1.22: alarm on failure and on lag over a threshold (webhook URL or job log; see lib/job/notify.ts). */
export const BatchSetSmnRequest = z.object({ body: SetSmnBodyV3 });

export const makeHandler = (deps = jobDeps) => apiHandler(BatchSetSmnRequest, async ({ body }, ctx) => batchSetSmnV3(ctx.projectId, body, deps()));

export const handler = makeHandler();
