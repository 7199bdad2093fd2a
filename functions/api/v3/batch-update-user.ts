import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import type { AccountsDeps } from '../../../lib/job/users.js';
import { batchUpdateUserV3, UpdateUserItemV3 } from '../../../lib/dialects/v3/config.js';
import { sourceAccountsOf } from '../../../lib/steps/users.js';

/** Seed 6.2.1: which source accounts and roles the job migrates (checked against the source; passwords stored encrypted). */
export const BatchUpdateUserRequest = z.object({ body: z.object({ jobs: z.array(UpdateUserItemV3).min(1).max(10) }).strict() });

export const makeHandler = (deps = (): AccountsDeps => ({ ...jobDeps(), accounts: (cfg) => sourceAccountsOf(cfg) })) =>
  apiHandler(BatchUpdateUserRequest, async ({ body }, ctx) => batchUpdateUserV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
