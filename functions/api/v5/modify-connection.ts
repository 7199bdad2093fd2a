import { z } from 'zod';
import { updateConnection, type ConnectionDeps } from '../../../lib/connections/commands.js';
import { connectionView, UpdateConnectionBody } from '../../../lib/connections/connection.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { secretBox } from '../../../lib/secrets/secret-box.js';
import { connectionStore } from '../../../lib/store/connection-store.js';
import { Id } from '../../../lib/validation.js';

export const ModifyConnectionRequest = z.object({
  path: z.object({ project_id: z.string(), connection_id: Id }),
  body: UpdateConnectionBody,
});

export const makeHandler = (deps: () => ConnectionDeps = () => ({ connections: connectionStore(), secrets: secretBox() })) =>
  apiHandler(ModifyConnectionRequest, async ({ path, body }, ctx) => connectionView(await updateConnection(ctx.projectId, path.connection_id, body, deps())));

export const handler = makeHandler();
