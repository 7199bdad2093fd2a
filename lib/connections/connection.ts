/**
 * Reusable database connections (seed 001, DRS v5 connection management): the wire schemas and
 * the stored shape. Passwords and SSL key material are encrypted before they reach the store and
 * never appear in a response.
 */
import { z } from 'zod';
import { Bool, Description, Host, Port, ResourceName, SafeText } from '../validation.js';

export const DB_TYPES = ['mysql', 'postgresql', 'mongodb', 'oracle', 'redis', 'rediscluster', 'gaussredis'] as const;
export const ENDPOINT_NAMES = [
  'oracle', 'ecs_oracle', 'cloud_gaussdbv5', 'mysql', 'ecs_mysql', 'cloud_mysql', 'redis', 'ecs_redis', 'rediscluster', 'ecs_rediscluster',
  'cloud_gaussdb_redis', 'postgresql', 'ecs_postgresql', 'cloud_postgresql', 'mongodb', 'ecs_mongodb', 'cloud_mongodb',
] as const;

const Text = (max: number) => SafeText(max);

/** BaseEndpoint. `ip`, `db_port`, `db_user`, `db_password` are what this deployment connects with. */
const BaseEndpointFields = {
  id: Text(64).optional(),
  endpoint_name: z.enum(ENDPOINT_NAMES).optional(),
  ip: Host.optional(),
  db_port: Port.optional(),
  db_user: Text(128).optional(),
  db_password: z.string().max(1024).optional(),
  instance_id: Text(128).optional(),
  instance_name: Text(128).optional(),
  db_name: Text(128).optional(),
};
const ShardEndpoint = z.object(BaseEndpointFields).strict();
export const BaseEndpoint = z.object({ ...BaseEndpointFields, source_sharding: z.array(ShardEndpoint).max(64).optional() }).strict();
export type BaseEndpoint = z.infer<typeof BaseEndpoint>;

export const Vpc = z.object({ vpc_id: Text(64).optional(), subnet_id: Text(64).optional(), security_group_id: Text(64).optional() }).strict();
export const Cloud = z.object({ region: Text(64).optional(), project_id: Text(64).optional(), az_code: Text(64).optional() }).strict();
export const Ssl = z
  .object({
    ssl_link: Bool.optional(),
    ssl_cert_name: Text(255).optional(),
    ssl_cert_key: z.string().max(65_536).regex(/^[A-Za-z0-9+/=\r\n]*$/, 'must be base64').optional(),
    ssl_cert_check_sum: Text(128).optional(),
    ssl_cert_password: z.string().max(1024).optional(),
  })
  .strict();
export type Ssl = z.infer<typeof Ssl>;
export const ConnectionConfig = z.object({ driver_name: Text(128).optional() }).strict();

const requiredForDirect = (e: BaseEndpoint | undefined, ctx: z.RefinementCtx) => {
  for (const f of ['ip', 'db_port', 'db_user', 'db_password'] as const) {
    if (e?.[f] === undefined) ctx.addIssue({ code: 'custom', path: ['endpoint', f], message: 'is required' });
  }
};

export const CreateConnectionBody = z
  .object({
    name: ResourceName,
    db_type: z.enum(DB_TYPES),
    config: ConnectionConfig.optional(),
    description: Description.optional(),
    endpoint: BaseEndpoint,
    vpc: Vpc.optional(),
    ssl: Ssl.optional(),
    cloud: Cloud.optional(),
    enterprise_project_id: Text(64).optional(),
  })
  .strict()
  .superRefine((b, ctx) => requiredForDirect(b.endpoint, ctx));
export type CreateConnectionBody = z.infer<typeof CreateConnectionBody>;

export const UpdateConnectionBody = z
  .object({
    name: ResourceName.optional(),
    db_type: z.enum(DB_TYPES).optional(),
    config: ConnectionConfig.optional(),
    description: Description.optional(),
    endpoint: BaseEndpoint.partial().optional(),
    vpc: Vpc.optional(),
    ssl: Ssl.optional(),
    cloud: Cloud.optional(),
    enterprise_project_id: Text(64).optional(),
  })
  .strict();
export type UpdateConnectionBody = z.infer<typeof UpdateConnectionBody>;

/** What the store keeps: the request shape with secrets replaced by ciphertexts. */
export interface StoredConnection {
  connection_id: string;
  project_id: string;
  name: string;
  db_type: (typeof DB_TYPES)[number];
  create_time: number;
  update_time: number;
  version: number;
  config?: z.infer<typeof ConnectionConfig>;
  description?: string;
  endpoint: Omit<BaseEndpoint, 'db_password'> & { db_password_cipher?: string };
  vpc?: z.infer<typeof Vpc>;
  ssl?: Omit<Ssl, 'ssl_cert_key' | 'ssl_cert_password'> & { ssl_cert_key_cipher?: string; ssl_cert_password_cipher?: string };
  cloud?: z.infer<typeof Cloud>;
  enterprise_project_id?: string;
}

/** The response shape (ConnectionResp): never a password or key. */
export function connectionView(c: StoredConnection) {
  const { db_password_cipher: _p, ...endpoint } = c.endpoint;
  const ssl = c.ssl ? (({ ssl_cert_key_cipher: _k, ssl_cert_password_cipher: _w, ...rest }) => rest)(c.ssl) : undefined;
  return {
    connection_id: c.connection_id,
    name: c.name,
    create_time: c.create_time,
    db_type: c.db_type,
    config: c.config ?? {},
    endpoint: { ...endpoint, db_port: endpoint.db_port === undefined ? undefined : String(endpoint.db_port) },
    vpc: c.vpc ?? {},
    ssl: ssl ?? { ssl_link: false },
    cloud: c.cloud ?? {},
    enterprise_project_id: c.enterprise_project_id ?? '0',
    description: c.description ?? '',
  };
}
