import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { CreateCompareTaskBodyV3, createCompareTaskV3 } from '../../../lib/dialects/v3/compare.js';
import { apiHandler } from '../../../lib/http/api-handler.js';

export const CreateCompareTaskRequest = z.object({ body: CreateCompareTaskBodyV3 });

/** Seed 6.1.17 (SDK CreateCompareTask): object and/or data-level compare of a job. */
export const makeHandler = (deps = compareDeps) => apiHandler(CreateCompareTaskRequest, async ({ body }, ctx) => createCompareTaskV3(ctx.projectId, body, deps()));

export const handler = makeHandler();
