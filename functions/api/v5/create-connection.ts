import { z } from 'zod';
import { createConnection, type ConnectionDeps } from '../../../lib/connections/commands.js';
import { connectionView, CreateConnectionBody } from '../../../lib/connections/connection.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { secretBox } from '../../../lib/secrets/secret-box.js';
import { connectionStore } from '../../../lib/store/connection-store.js';

export const CreateConnectionRequest = z.object({ body: CreateConnectionBody });

export const makeHandler = (deps: () => ConnectionDeps = () => ({ connections: connectionStore(), secrets: secretBox() })) =>
  apiHandler(CreateConnectionRequest, async ({ body }, ctx) => connectionView(await createConnection(ctx.projectId, body, deps())));

export const handler = makeHandler();
