import { z } from 'zod';
import { getConnection } from '../../../lib/connections/commands.js';
import { connectionView } from '../../../lib/connections/connection.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { connectionStore, type ConnectionStore } from '../../../lib/store/connection-store.js';
import { Id } from '../../../lib/validation.js';

export const ShowConnectionRequest = z.object({ path: z.object({ project_id: z.string(), connection_id: Id }) });

export const makeHandler = (deps: () => { connections: ConnectionStore } = () => ({ connections: connectionStore() })) =>
  apiHandler(ShowConnectionRequest, async ({ path }, ctx) => connectionView(await getConnection(ctx.projectId, path.connection_id, deps())));

export const handler = makeHandler();
