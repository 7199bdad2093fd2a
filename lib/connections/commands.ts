/**
 * Connection commands: create, list, get, update, delete. Plain functions over ports.
 * Every read and write names the caller's project, so another project's id is simply not found.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, type ErrorCodes } from '../errors.js';
import { containsIgnoreCase, page, sortBy, type Page } from '../paging.js';
import type { SecretBox } from '../secrets/secret-box.js';
import type { ConnectionStore } from '../store/connection-store.js';
import type { BaseEndpoint, CreateConnectionBody, Ssl, StoredConnection, UpdateConnectionBody } from './connection.js';

export interface ConnectionDeps {
  connections: ConnectionStore;
  secrets: SecretBox;
  now?: () => Date;
}

const DUPLICATE_NAME: ErrorCodes = { v3: 'DRS.M00277', v5: 'DRS.10010065', oms: 'PARAM_ERROR' };
const NOT_FOUND: ErrorCodes = { v3: 'DRS.M00202', v5: 'DRS.10020002', oms: 'PARAM_ERROR' };

const duplicate = (name: string) => new ConflictError(`Connection manager name is already exists: a connection named "${name}" exists in this project (names are case-insensitive).`, DUPLICATE_NAME);

async function sealEndpoint(e: Partial<BaseEndpoint>, secrets: SecretBox, prev?: StoredConnection['endpoint']): Promise<StoredConnection['endpoint']> {
  const { db_password, ...rest } = e;
  return { ...prev, ...rest, db_password_cipher: db_password !== undefined ? await secrets.encrypt(db_password) : prev?.db_password_cipher };
}

async function sealSsl(s: Ssl | undefined, secrets: SecretBox, prev?: StoredConnection['ssl']): Promise<StoredConnection['ssl']> {
  if (!s) return prev;
  const { ssl_cert_key, ssl_cert_password, ...rest } = s;
  return {
    ...rest,
    ssl_cert_key_cipher: ssl_cert_key !== undefined ? await secrets.encrypt(ssl_cert_key) : prev?.ssl_cert_key_cipher,
    ssl_cert_password_cipher: ssl_cert_password !== undefined ? await secrets.encrypt(ssl_cert_password) : prev?.ssl_cert_password_cipher,
  };
}

export async function createConnection(projectId: string, body: CreateConnectionBody, deps: ConnectionDeps): Promise<StoredConnection> {
  const id = randomUUID();
  if (!(await deps.connections.claimName(projectId, body.name, id))) throw duplicate(body.name);
  const now = (deps.now ?? (() => new Date()))().getTime();
  const conn: StoredConnection = {
    connection_id: id,
    project_id: projectId,
    name: body.name,
    db_type: body.db_type,
    create_time: now,
    update_time: now,
    version: 1,
    config: body.config,
    description: body.description,
    endpoint: await sealEndpoint(body.endpoint, deps.secrets),
    vpc: body.vpc,
    ssl: await sealSsl(body.ssl, deps.secrets),
    cloud: body.cloud,
    enterprise_project_id: body.enterprise_project_id,
  };
  try {
    await deps.connections.create(conn);
  } catch (e) {
    await deps.connections.releaseName(projectId, body.name, id);
    throw e;
  }
  return conn;
}

export async function getConnection(projectId: string, id: string, deps: Pick<ConnectionDeps, 'connections'>): Promise<StoredConnection> {
  const conn = await deps.connections.get(projectId, id);
  if (!conn) throw new NotFoundError('connection', id, NOT_FOUND);
  return conn;
}

export interface ConnectionFilter {
  connection_id?: string;
  db_type?: string;
  name?: string;
  inst_id?: string;
  ip?: string;
  description?: string;
  create_time?: number;
  enterprise_project_id?: string;
  offset: number;
  limit: number;
  fetch_all?: boolean;
  sort_key: 'create_time' | 'name';
  sort_dir: 'asc' | 'desc';
}

export async function listConnections(projectId: string, f: ConnectionFilter, deps: Pick<ConnectionDeps, 'connections'>): Promise<Page<StoredConnection>> {
  const all = await deps.connections.list(projectId);
  const hits = all.filter(
    (c) =>
      (f.connection_id === undefined || c.connection_id === f.connection_id) &&
      (f.db_type === undefined || c.db_type === f.db_type) &&
      (f.name === undefined || containsIgnoreCase(c.name, f.name)) &&
      (f.inst_id === undefined || c.endpoint.instance_id === f.inst_id) &&
      (f.ip === undefined || c.endpoint.ip === f.ip) &&
      (f.description === undefined || containsIgnoreCase(c.description, f.description)) &&
      (f.create_time === undefined || c.create_time >= f.create_time) &&
      (f.enterprise_project_id === undefined || f.enterprise_project_id === '' || (c.enterprise_project_id ?? '0') === f.enterprise_project_id),
  );
  const sorted = sortBy(hits, (c) => (f.sort_key === 'name' ? c.name.toLowerCase() : c.create_time), f.sort_dir);
  return page(sorted, f.fetch_all ? 0 : f.offset, f.fetch_all ? undefined : f.limit);
}

export async function updateConnection(projectId: string, id: string, body: UpdateConnectionBody, deps: ConnectionDeps): Promise<StoredConnection> {
  const prev = await getConnection(projectId, id, deps);
  const renamed = body.name !== undefined && body.name.toLowerCase() !== prev.name.toLowerCase();
  if (renamed && !(await deps.connections.claimName(projectId, body.name!, id))) throw duplicate(body.name!);
  const next: StoredConnection = {
    ...prev,
    name: body.name ?? prev.name,
    db_type: body.db_type ?? prev.db_type,
    config: body.config ?? prev.config,
    description: body.description ?? prev.description,
    endpoint: body.endpoint ? await sealEndpoint(body.endpoint, deps.secrets, prev.endpoint) : prev.endpoint,
    vpc: body.vpc ?? prev.vpc,
    ssl: await sealSsl(body.ssl, deps.secrets, prev.ssl),
    cloud: body.cloud ?? prev.cloud,
    enterprise_project_id: body.enterprise_project_id ?? prev.enterprise_project_id,
    update_time: (deps.now ?? (() => new Date()))().getTime(),
    version: prev.version + 1,
  };
  try {
    await deps.connections.update(next, prev.version);
  } catch (e) {
    if (renamed) await deps.connections.releaseName(projectId, body.name!, id);
    throw e;
  }
  if (renamed) await deps.connections.releaseName(projectId, prev.name, id);
  return next;
}

export async function deleteConnection(projectId: string, id: string, deps: Pick<ConnectionDeps, 'connections'>): Promise<void> {
  const conn = await getConnection(projectId, id, deps);
  if (!(await deps.connections.delete(projectId, id))) throw new NotFoundError('connection', id, NOT_FOUND);
  await deps.connections.releaseName(projectId, conn.name, id);
}

/** Decrypted endpoint for the engines (never for a response). */
export async function openConnectionSecrets(conn: StoredConnection, secrets: SecretBox) {
  return {
    password: conn.endpoint.db_password_cipher ? await secrets.decrypt(conn.endpoint.db_password_cipher) : undefined,
    sslCertKey: conn.ssl?.ssl_cert_key_cipher ? await secrets.decrypt(conn.ssl.ssl_cert_key_cipher) : undefined,
    sslCertPassword: conn.ssl?.ssl_cert_password_cipher ? await secrets.decrypt(conn.ssl.ssl_cert_password_cipher) : undefined,
  };
}
