/** The local runtime inside the test process: in-memory store, HTTP server on a free port. */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentialStore } from '../../lib/auth/credentials.js';
import { bootstrapLocal, type LocalEnvironment } from '../../lib/local/bootstrap.js';
import { serverPort, startHttpServer } from '../../lib/local/http-server.js';
import { routes } from '../../lib/local/routes.js';
import type { Cred } from './huawei.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface LocalService {
  url: string;
  host: string;
  cred: Cred;
  env: LocalEnvironment;
  /** Another credential, for another project (tenant isolation). */
  newTenant(): Promise<Cred>;
  stop(): Promise<void>;
}

export async function newCredential(): Promise<Cred> {
  const cred = { accessKey: 'AK' + randomBytes(8).toString('hex').toUpperCase(), secretKey: randomBytes(24).toString('base64url'), projectId: randomBytes(16).toString('hex') };
  await credentialStore().put({ accessKey: cred.accessKey, secretKey: cred.secretKey, projectIds: [cred.projectId] });
  return cred;
}

export async function startLocal(opts: { http?: boolean } = {}): Promise<LocalService> {
  const env = await bootstrapLocal({ env: {} });
  let server: Server | undefined;
  if (opts.http !== false) server = await startHttpServer(routes(ROOT), 0);
  const host = server ? `127.0.0.1:${serverPort(server)}` : 'localhost';
  const c = env.credential;
  return {
    url: `http://${host}`,
    host,
    cred: { accessKey: c.accessKey, secretKey: c.secretKey, projectId: c.projectIds[0] },
    env,
    newTenant: newCredential,
    async stop() {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      await env.dynamo.close();
    },
  };
}
