/**
 * Shared by the hardening suites: requests on the wire to the in-process local runtime, signed
 * (SDK-HMAC-SHA256) over exactly the bytes sent, so a test can put anything in the path, query,
 * headers and body and still get past authentication; and a whole-table snapshot (Scan) to prove
 * that a refused request changed nothing.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { request } from 'node:http';
import { canonicalRequest, sign, stringToSign } from '../../../lib/auth/signature.js';
import { table } from '../../../lib/store/table.js';
import type { Cred } from '../../helpers/huawei.js';

export interface WireRequest {
  method: string;
  /** Raw path, sent as is (already percent-encoded where it should be). */
  path: string;
  /** Raw query string without `?`, sent as is. */
  query?: string;
  body?: Buffer | string;
  /** Extra headers, signed unless `unsignedHeaders` lists them; an array sends the header repeatedly. */
  headers?: Record<string, string | string[]>;
  /** Headers added after signing (tampering). */
  unsignedHeaders?: Record<string, string | string[]>;
  cred?: Cred;
  /** X-Sdk-Date to sign with; default now. */
  date?: string;
  /** Send no Authorization at all. */
  unsigned?: boolean;
  /** Content-Type; default application/json. `null` sends none. */
  contentType?: string | null;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown> | undefined;
}

export const sdkDate = (d = new Date()) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** The Authorization and signed headers for a request, computed over the raw path, query and body. */
export function signHeaders(r: { method: string; path: string; query?: string; body?: Buffer; headers: Record<string, string> }, cred: Cred, date: string): Record<string, string> {
  const headers: Record<string, string> = { ...r.headers, 'x-sdk-date': date };
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  let signature = '0'.repeat(64);
  try {
    const canonical = canonicalRequest({ method: r.method, rawPath: r.path, rawQuery: r.query ?? '', headers: lower, body: r.body ?? Buffer.alloc(0) }, names);
    signature = sign(cred.secretKey, stringToSign(date, canonical));
  } catch {
    // Not canonicalizable (e.g. a broken %-escape): no client could sign it; send it anyway.
  }
  return { ...headers, authorization: `SDK-HMAC-SHA256 Access=${cred.accessKey}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

export function send(host: string, r: WireRequest): Promise<WireResponse> {
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  const base: Record<string, string> = { host };
  if (r.contentType !== null) base['content-type'] = r.contentType ?? 'application/json';
  if (r.cred) base['x-project-id'] = r.cred.projectId;
  const signedExtra: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    if (Array.isArray(v)) multi[k.toLowerCase()] = v;
    else signedExtra[k.toLowerCase()] = v;
  }
  let headers: Record<string, string | string[]> = { ...base, ...signedExtra };
  if (!r.unsigned && r.cred) headers = signHeaders({ method: r.method, path: r.path, query: r.query, body, headers: headers as Record<string, string> }, r.cred, r.date ?? sdkDate());
  Object.assign(headers, multi, r.unsignedHeaders ?? {});
  if (body) headers['content-length'] = String(body.length);
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port: Number(port), method: r.method, path: r.path + (r.query ? `?${r.query}` : ''), headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every item of the table, in key order, as one string: equal strings mean nothing changed. */
export async function scanTable(): Promise<string> {
  const t = table();
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await t.doc.send(new ScanCommand({ TableName: t.name, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    start = out.LastEvaluatedKey;
  } while (start);
  items.sort((a, b) => (`${a.pk}\u0000${a.sk}` < `${b.pk}\u0000${b.sk}` ? -1 : 1));
  return JSON.stringify(items);
}

/** Scan, as items (for filtering by project). */
export async function scanItems(): Promise<Record<string, unknown>[]> {
  return JSON.parse(await scanTable()) as Record<string, unknown>[];
}

/** Fill a route template's `{param}`s (values are percent-encoded as a client would). */
export function fillPath(template: string, params: Record<string, string>, encode = true): string {
  return template.replace(/\{(\w+)\+?\}/g, (_m, name: string) => {
    const v = params[name] ?? 'x';
    return encode ? encodeURIComponent(v) : v;
  });
}

/** A DRS error body: both fields, non-empty strings. */
export function isDrsError(body: unknown): body is { error_code: string; error_msg: string } {
  const b = body as { error_code?: unknown; error_msg?: unknown } | undefined;
  return !!b && typeof b.error_code === 'string' && b.error_code.length > 0 && typeof b.error_msg === 'string' && b.error_msg.length > 0;
}

/** The OMS envelope of a refused request. */
export function isOmsError(body: unknown): boolean {
  const b = body as { success?: unknown; code?: unknown; message?: unknown } | undefined;
  return !!b && b.success === false && typeof b.code === 'string' && typeof b.message === 'string' && b.message.length > 0;
}
