/**
 * Who is calling, and may they act on this project? AK/SK signature (what every official SDK
 * sends) or an X-Auth-Token issued for the project. A credential reaches its own projects only;
 * everything else is 401 APIGW.0301 before any handler code runs.
 */
import { UnauthorizedError } from '../errors.js';
import type { CredentialStore } from './credentials.js';
import { verifySignature, type SignedRequest } from './signature.js';

export interface Caller {
  projectId: string;
  accessKey?: string;
  via: 'signature' | 'token';
}

export async function authenticate(req: SignedRequest, projectId: string | undefined, store: CredentialStore, now = new Date()): Promise<Caller> {
  if (!projectId) throw new UnauthorizedError('the request names no project');
  const headerProject = req.headers['x-project-id'];
  if (headerProject !== undefined && headerProject !== projectId) throw new UnauthorizedError('X-Project-Id does not match the project in the path');

  const token = req.headers['x-auth-token'];
  if (token !== undefined && req.headers['authorization'] === undefined) {
    const tokenProject = await store.tokenProject(token, now);
    if (tokenProject !== projectId) throw new UnauthorizedError('the token is unknown, expired, or not valid for this project');
    return { projectId, via: 'token' };
  }

  const accessKey = await verifySignature(req, async (ak) => (await store.get(ak))?.secretKey, now);
  const cred = await store.get(accessKey);
  if (!cred?.projectIds.includes(projectId)) throw new UnauthorizedError('the access key is not authorized for this project');
  return { projectId, accessKey, via: 'signature' };
}
