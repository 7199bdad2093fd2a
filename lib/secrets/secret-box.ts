/**
 * Encrypts database passwords and key material at rest. AWS: KMS (the key in KMS_KEY_ID).
 * Local runtime: AES-256-GCM with a key generated once and kept in the data directory.
 * Ciphertexts carry a prefix naming the scheme, so a store never mixes them up silently.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { config } from '../config.js';
import { registerSecret } from '../logger.js';

export interface SecretBox {
  encrypt(plain: string): Promise<string>;
  decrypt(cipher: string): Promise<string>;
}

const LOCAL_PREFIX = 'aesgcm1:';

export class AesGcmSecretBox implements SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('The local secret key must be 32 bytes (AES-256)');
  }
  async encrypt(plain: string): Promise<string> {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return LOCAL_PREFIX + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }
  async decrypt(cipher: string): Promise<string> {
    if (!cipher.startsWith(LOCAL_PREFIX)) throw new Error('Not a local AES-GCM ciphertext');
    const raw = Buffer.from(cipher.slice(LOCAL_PREFIX.length), 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    const plain = Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    registerSecret(plain);
    return plain;
  }
}

const KMS_PREFIX = 'kms1:';

export class KmsSecretBox implements SecretBox {
  private clientPromise?: Promise<{ send: (cmd: unknown) => Promise<{ CiphertextBlob?: Uint8Array; Plaintext?: Uint8Array }> }>;
  private kms?: typeof import('@aws-sdk/client-kms');
  constructor(
    private readonly keyId: string,
    private readonly region: string,
  ) {}
  private async client() {
    this.clientPromise ??= import('@aws-sdk/client-kms').then((m) => {
      this.kms = m;
      return new m.KMSClient({ region: this.region }) as never;
    });
    return this.clientPromise;
  }
  async encrypt(plain: string): Promise<string> {
    const client = await this.client();
    const out = await client.send(new this.kms!.EncryptCommand({ KeyId: this.keyId, Plaintext: Buffer.from(plain, 'utf8') }));
    return KMS_PREFIX + Buffer.from(out.CiphertextBlob!).toString('base64');
  }
  async decrypt(cipher: string): Promise<string> {
    if (!cipher.startsWith(KMS_PREFIX)) throw new Error('Not a KMS ciphertext');
    const client = await this.client();
    const out = await client.send(new this.kms!.DecryptCommand({ CiphertextBlob: Buffer.from(cipher.slice(KMS_PREFIX.length), 'base64') }));
    const plain = Buffer.from(out.Plaintext!).toString('utf8');
    registerSecret(plain);
    return plain;
  }
}

let shared: SecretBox | undefined;

/** KMS when KMS_KEY_ID is set, else the local key from DRS_SECRET_KEY. Neither: refuse to run. */
export function secretBox(): SecretBox {
  if (!shared) {
    const c = config();
    if (c.KMS_KEY_ID) shared = new KmsSecretBox(c.KMS_KEY_ID, c.AWS_REGION);
    else if (c.DRS_SECRET_KEY) shared = new AesGcmSecretBox(Buffer.from(c.DRS_SECRET_KEY, 'base64'));
    else throw new Error('No secret box configured: set KMS_KEY_ID (AWS) or DRS_SECRET_KEY (local)');
  }
  return shared;
}

export function resetSecretBox(): void {
  shared = undefined;
}
