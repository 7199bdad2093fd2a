import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { batchClusterConnectionV3, type ConnectionDeps } from '../../../lib/dialects/v3/config.js';
import { ClusterTestV3 } from '../../../lib/dialects/v3/schemas.js';

/** Seed 6.1.3: the endpoints of each item travel as a JSON string in `property`; all must connect. */
export const BatchValidateClustersConnectionsRequest = z.object({ body: z.object({ jobs: z.array(ClusterTestV3).min(1).max(10) }).strict() });

export const makeHandler = (deps: () => ConnectionDeps = jobDeps) => apiHandler(BatchValidateClustersConnectionsRequest, async ({ body }, ctx) => batchClusterConnectionV3(ctx.projectId, body.jobs, deps()));

export const handler = makeHandler();
