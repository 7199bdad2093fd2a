import { z } from 'zod';
import { listConnections } from '../../../lib/connections/commands.js';
import { connectionView, DB_TYPES } from '../../../lib/connections/connection.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { connectionStore, type ConnectionStore } from '../../../lib/store/connection-store.js';
import { Bool, Limit, Offset, SafeText, Single } from '../../../lib/validation.js';

export const ListConnectionsRequest = z.object({
  query: z
    .object({
      connection_id: Single(SafeText(64)).optional(),
      db_type: Single(z.enum(DB_TYPES)).optional(),
      name: Single(SafeText(64)).optional(),
      inst_id: Single(SafeText(128)).optional(),
      ip: Single(SafeText(255)).optional(),
      description: Single(SafeText(255)).optional(),
      create_time: Single(z.coerce.number().int().min(0)).optional(),
      enterprise_project_id: Single(SafeText(64)).optional(),
      offset: Single(Offset),
      limit: Single(Limit(1000, 10)),
      fetch_all: Single(Bool).optional(),
      sort_key: Single(z.enum(['create_time', 'name'])).default('create_time'),
      sort_dir: Single(z.enum(['asc', 'desc'])).default('desc'),
    })
    .strict(),
});

export const makeHandler = (deps: () => { connections: ConnectionStore } = () => ({ connections: connectionStore() })) =>
  apiHandler(ListConnectionsRequest, async ({ query }, ctx) => {
    const result = await listConnections(ctx.projectId, query, deps());
    return { count: result.total, connections: result.items.map(connectionView) };
  });

export const handler = makeHandler();
