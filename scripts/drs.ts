/**
 * A signed-request CLI for the local runtime (like curl, but with AK/SK signing):
 *   npm run drs -- GET /v5/{project_id}/connections
 *   npm run drs -- POST /v5/{project_id}/connections '{"name":"orders-db", ...}'
 * Credentials: DRS_AK / DRS_SK / DRS_PROJECT_ID, else the local data dir's credentials.json.
 * `{project_id}` in the path is replaced by the project id. DRS_URL defaults to http://127.0.0.1:${PORT:-3000},
 * the address `npm start` listens on.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalRequest, sign, stringToSign } from '../lib/auth/signature.js';

const [method = 'GET', rawPathArg = '/', body] = process.argv.slice(2);
const dataDir = process.env.DRS_DATA_DIR ?? path.join(process.cwd(), '.data');
const fileCred = (() => {
  try {
    const c = JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
    return Array.isArray(c) ? c[0] : c;
  } catch {
    return undefined;
  }
})();
const ak = process.env.DRS_AK ?? fileCred?.accessKey;
const sk = process.env.DRS_SK ?? fileCred?.secretKey;
const projectId = process.env.DRS_PROJECT_ID ?? fileCred?.projectIds?.[0];
if (!ak || !sk || !projectId) {
  console.error('No credentials: set DRS_AK, DRS_SK, DRS_PROJECT_ID, or start the local runtime once (it writes .data/credentials.json).');
  process.exit(2);
}
const base = new URL(process.env.DRS_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`);
const url = new URL(rawPathArg.replace('{project_id}', projectId), base);
const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const headers: Record<string, string> = { 'content-type': 'application/json', host: url.host, 'x-project-id': projectId, 'x-sdk-date': now };
const signed = ['content-type', 'host', 'x-project-id', 'x-sdk-date'];
const bytes = Buffer.from(body ?? '', 'utf8');
const canonical = canonicalRequest({ method, rawPath: url.pathname, rawQuery: url.search.slice(1), headers, body: bytes }, signed);
headers.authorization = `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${signed.join(';')}, Signature=${sign(sk, stringToSign(now, canonical))}`;
const res = await fetch(url, { method, headers, body: body ?? undefined }).catch((e: Error & { cause?: Error }) => {
  console.error(`Cannot reach ${base.origin}: ${e.cause?.message ?? e.message}. Is the service running (npm start)? Set DRS_URL or PORT to reach another address.`);
  process.exit(2);
});
const text = await res.text();
console.log(`HTTP ${res.status}`);
try {
  console.log(JSON.stringify(JSON.parse(text), null, 2));
} catch {
  console.log(text);
}
