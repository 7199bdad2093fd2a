import { z } from 'zod';
import { deleteConnection } from '../../../lib/connections/commands.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { connectionStore, type ConnectionStore } from '../../../lib/store/connection-store.js';
import { Id } from '../../../lib/validation.js';

export const DeleteConnectionRequest = z.object({ path: z.object({ project_id: z.string(), connection_id: Id }) });

export const makeHandler = (deps: () => { connections: ConnectionStore } = () => ({ connections: connectionStore() })) =>
  apiHandler(DeleteConnectionRequest, async ({ path }, ctx) => {
    await deleteConnection(ctx.projectId, path.connection_id, deps());
    return {};
  });

export const handler = makeHandler();
