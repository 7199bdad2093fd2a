import { z } from 'zod';
import { batchSwitchoverV3 } from '../../../lib/dialects/v3/dr.js';
import { JobIdsBody } from '../../../lib/dialects/v3/schemas.js';
import { currentPositionOf, setWriteMode } from '../../../lib/engines/params.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import type { SwitchoverDeps } from '../../../lib/job/switchover.js';

export const BatchSwitchoverRequest = z.object({ body: JobIdsBody });

/** Seed 6.4.1: stop writes on the primary, wait for zero lag, reverse the DR job, report RPO/RTO (202). */
export const makeHandler = (deps = (): SwitchoverDeps => ({ ...jobDeps(), dr: { setWriteMode, position: currentPositionOf } })) =>
  apiHandler(BatchSwitchoverRequest, async ({ body }, ctx) => batchSwitchoverV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
