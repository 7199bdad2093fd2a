import { z } from 'zod';
import { sourceUsersV3 } from '../../../lib/dialects/v3/config.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import type { AccountsDeps } from '../../../lib/job/users.js';
import { sourceAccountsOf } from '../../../lib/steps/users.js';
import { Id } from '../../../lib/validation.js';

export const ListUsersRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), query: z.object({}).strict() });

/** Seed 6.2.2: the source's accounts and roles, read from the server now (credentials never included), with the job's selection. */
export const makeHandler = (deps = (): AccountsDeps => ({ ...jobDeps(), accounts: (cfg) => sourceAccountsOf(cfg) })) =>
  apiHandler(ListUsersRequest, async ({ path }, ctx) => sourceUsersV3(ctx.projectId, path.job_id, deps()));

export const handler = makeHandler();
