import { z } from 'zod';
import { NodeTypeQueryV3, nodeTypesV3 } from '../../../lib/dialects/v3/offer.js';
import { apiHandler } from '../../../lib/http/api-handler.js';

export const ListAvailableNodeTypesRequest = z.object({ query: NodeTypeQueryV3 });

/** Seed 6.1.23: the node sizes this deployment offers (each a degree of parallelism), never sold out. */
export const makeHandler = () => apiHandler(ListAvailableNodeTypesRequest, async ({ query }) => nodeTypesV3(query));

export const handler = makeHandler();
