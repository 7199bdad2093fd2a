import { z } from 'zod';
import { AvailableZoneBodyV3, availableZonesV3 } from '../../../lib/dialects/v3/offer.js';
import { apiHandler } from '../../../lib/http/api-handler.js';

export const ListAvailableZoneRequest = z.object({ body: AvailableZoneBodyV3 });

/** Seed 5.2.1: the one zone this deployment runs in (the AWS region, or `local`). */
export const makeHandler = () => apiHandler(ListAvailableZoneRequest, async ({ body }) => availableZonesV3(body));

export const handler = makeHandler();
