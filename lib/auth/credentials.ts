/**
 * Access keys and tokens. An access key (AK) has a secret (SK, stored encrypted: it must be
 * recoverable to verify HMAC signatures) and the list of projects it may act on. Tokens
 * (X-Auth-Token) are issued for one project and expire; only their SHA-256 is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { table, type Item, type Table } from '../store/table.js';
import { secretBox, type SecretBox } from '../secrets/secret-box.js';

export interface Credential {
  accessKey: string;
  secretKey: string;
  projectIds: string[];
}

export interface IssuedToken {
  token: string;
  projectId: string;
  expiresAt: string;
}

export const TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
const CACHE_MS = 30_000;

type CredentialItem = Item & { secretCipher: string; projectIds: string[]; createdAt: string };
type TokenItem = Item & { projectId: string; accessKey: string; expiresAt: string };

const akKey = (ak: string) => ({ pk: `AK#${ak}`, sk: 'AK' });
const tokenKey = (token: string) => ({ pk: `TOKEN#${createHash('sha256').update(token).digest('hex')}`, sk: 'TOKEN' });

export class CredentialStore {
  private cache = new Map<string, { at: number; value: Credential | undefined }>();
  constructor(
    private readonly t: Table,
    private readonly box: SecretBox,
  ) {}

  /** Create or replace an access key. */
  async put(cred: Credential): Promise<void> {
    const item: CredentialItem = { ...akKey(cred.accessKey), secretCipher: await this.box.encrypt(cred.secretKey), projectIds: cred.projectIds, createdAt: new Date().toISOString() };
    await this.t.put(item);
    this.cache.delete(cred.accessKey);
  }

  async get(accessKey: string): Promise<Credential | undefined> {
    const hit = this.cache.get(accessKey);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
    const item = accessKey.length <= 128 ? await this.t.get<CredentialItem>(akKey(accessKey).pk, 'AK') : undefined;
    const value = item ? { accessKey, secretKey: await this.box.decrypt(item.secretCipher), projectIds: item.projectIds } : undefined;
    this.cache.set(accessKey, { at: Date.now(), value });
    return value;
  }

  async issueToken(accessKey: string, projectId: string, now = new Date()): Promise<IssuedToken> {
    const token = 'drs' + randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + TOKEN_TTL_MS).toISOString();
    const item: TokenItem = { ...tokenKey(token), projectId, accessKey, expiresAt };
    await this.t.put(item);
    return { token, projectId, expiresAt };
  }

  /** The project a live token was issued for, or undefined. */
  async tokenProject(token: string, now = new Date()): Promise<string | undefined> {
    if (token.length > 512) return undefined;
    const { pk, sk } = tokenKey(token);
    const item = await this.t.get<TokenItem>(pk, sk);
    if (!item || item.expiresAt <= now.toISOString()) return undefined;
    const cred = await this.get(item.accessKey);
    return cred?.projectIds.includes(item.projectId) ? item.projectId : undefined;
  }
}

let shared: CredentialStore | undefined;
export function credentialStore(): CredentialStore {
  shared ??= new CredentialStore(table(), secretBox());
  return shared;
}
export function resetCredentialStore(): void {
  shared = undefined;
}
