import { z } from 'zod';
import { batchGetParamsV3, Refresh } from '../../../lib/dialects/v3/params.js';
import { JobIds } from '../../../lib/dialects/v3/schemas.js';
import { readServerParams, writeServerParams } from '../../../lib/engines/params.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import type { ParamsDeps } from '../../../lib/job/params.js';

export const paramsDeps = (): ParamsDeps => ({ ...jobDeps(), params: { read: readServerParams, write: writeServerParams } });

export const BatchShowParamsRequest = z.object({ body: z.object({ jobs: JobIds, refresh: Refresh }).strict() });

/** Seed 6.1.9: SHOW GLOBAL VARIABLES / pg_settings of source and target, compared (202). */
export const makeHandler = (deps = paramsDeps) => apiHandler(BatchShowParamsRequest, async ({ body }, ctx) => batchGetParamsV3(ctx.projectId, body.jobs, body.refresh, deps()));

export const handler = makeHandler();
