/**
 * Everything the local runtime needs before serving: the data directory, the local secret key,
 * the embedded store, the table, and a credential. Also used by tests to get the same setup.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentialStore, resetCredentialStore, type Credential } from '../auth/credentials.js';
import { config, resetConfig } from '../config.js';
import { resetSecretBox } from '../secrets/secret-box.js';
import { resetTable, table } from '../store/table.js';
import { startDynalite, type EmbeddedDynamo } from './dynamodb.js';

export interface LocalEnvironment {
  dataDir: string | undefined;
  dynamo: EmbeddedDynamo;
  credential: Credential;
  /** True when the credential was generated (not given through DRS_AK/DRS_SK/DRS_PROJECT_ID). */
  generated: boolean;
}

function readOrCreate(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return value;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * Start the embedded store and point this process's configuration at it.
 * `dataDir` undefined: everything in memory (tests).
 */
export async function bootstrapLocal(opts: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<LocalEnvironment> {
  const env = opts.env ?? process.env;
  const dataDir = opts.dataDir ? path.resolve(opts.dataDir) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const secretKey = env.DRS_SECRET_KEY ?? (dataDir ? readOrCreate(path.join(dataDir, 'secret.key'), () => randomBytes(32).toString('base64')) : randomBytes(32).toString('base64'));
  const dynamo = await startDynalite(dataDir ? path.join(dataDir, 'dynamodb') : undefined);

  process.env.DRS_RUNTIME = 'local';
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.DRS_SECRET_KEY = secretKey;
  process.env.DRS_TABLE = env.DRS_TABLE ?? 'drs';
  if (dataDir) process.env.DRS_DATA_DIR = dataDir;
  delete process.env.KMS_KEY_ID;
  resetConfig();
  resetTable();
  resetSecretBox();
  resetCredentialStore();
  await table().ensureExists();

  // credentials.json holds one credential or a list (the first is the one printed at start-up).
  const file = dataDir ? path.join(dataDir, 'credentials.json') : undefined;
  const make = () => JSON.stringify({ accessKey: hex(10).toUpperCase(), secretKey: randomBytes(30).toString('base64url'), projectIds: [hex(16)] });
  const fromEnv = env.DRS_AK && env.DRS_SK && env.DRS_PROJECT_ID ? { accessKey: env.DRS_AK, secretKey: env.DRS_SK, projectIds: [env.DRS_PROJECT_ID] } : undefined;
  const raw = file && (existsSync(file) || !fromEnv) ? readOrCreate(file, make) : fromEnv ? '[]' : make();
  const parsed = JSON.parse(raw) as Credential | Credential[];
  const listed = Array.isArray(parsed) ? parsed : [parsed];
  const all = fromEnv ? [fromEnv, ...listed.filter((c) => c.accessKey !== fromEnv.accessKey)] : listed;
  for (const c of all) await credentialStore().put(c);
  const credential = all[0];
  const generated = !fromEnv;
  void config();
  return { dataDir, dynamo, credential, generated };
}
