/**
 * SDK-HMAC-SHA256 request signatures (spec/auth-signing.md), verified on the request exactly as
 * received: raw path, raw query, the signed headers listed in Authorization, raw body bytes.
 * Pure: no I/O; the secret lookup is passed in.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors.js';

export const ALGORITHM = 'SDK-HMAC-SHA256';
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Accepted distance between the client's X-Sdk-Date and our clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface SignedRequest {
  method: string;
  /** The path as received, still percent-encoded. */
  rawPath: string;
  /** The query string as received, without `?`. */
  rawQuery: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface ParsedAuthorization {
  accessKey: string;
  signedHeaders: string[];
  signature: string;
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** RFC 3986 unreserved characters stay, everything else is %XX of its UTF-8 bytes. */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function decode(s: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? s.replace(/\+/g, ' ') : s);
  } catch {
    throw new UnauthorizedError('the request URL is not validly percent-encoded');
  }
}

export function canonicalUri(rawPath: string): string {
  const path = rawPath
    .split('/')
    .map((seg) => rfc3986(decode(seg, false)))
    .join('/');
  return path.endsWith('/') ? path : path + '/';
}

export function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  const pairs = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [rfc3986(decode(k, true)), rfc3986(decode(v, true))] as const;
    });
  pairs.sort((a, b) => (a[0] === b[0] ? cmp(a[1], b[1]) : cmp(a[0], b[0])));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (!header) throw new UnauthorizedError('the Authorization header is missing');
  if (!header.startsWith(ALGORITHM + ' ')) throw new UnauthorizedError(`only ${ALGORITHM} signatures are accepted`);
  // Exactly Access, SignedHeaders and Signature, each once: two Authorization headers joined by a
  // proxy (`a, b`), a repeated field or an unknown one leave it unclear what was signed by whom.
  const fields: Record<string, string> = {};
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const i = part.indexOf('=');
    const key = i < 0 ? part.trim() : part.slice(0, i).trim();
    if (!['Access', 'SignedHeaders', 'Signature'].includes(key) || key in fields) throw new UnauthorizedError('the Authorization header is malformed');
    fields[key] = part.slice(i + 1).trim();
  }
  const { Access, SignedHeaders, Signature } = fields;
  if (!Access || !SignedHeaders || !Signature) throw new UnauthorizedError('the Authorization header is malformed');
  if (!/^[0-9a-f]{64}$/.test(Signature)) throw new UnauthorizedError('the signature is malformed');
  const signedHeaders = SignedHeaders.split(';');
  if (signedHeaders.some((h) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h))) throw new UnauthorizedError('SignedHeaders is malformed');
  return { accessKey: Access, signedHeaders, signature: Signature };
}

/** Parse `YYYYMMDDTHHMMSSZ`; undefined when malformed. */
export function parseSdkDate(value: string | undefined): Date | undefined {
  const m = value && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  // Date.UTC rolls over (month 13, hour 25, second 60); a real timestamp survives the round trip.
  return Number.isNaN(d.getTime()) || d.toISOString().replace(/[-:]|\.\d{3}/g, '') !== value ? undefined : d;
}

export function canonicalRequest(req: SignedRequest, signedHeaders: string[]): string {
  const headerBlock = signedHeaders
    .map((name) => {
      const v = req.headers[name];
      if (v === undefined) throw new UnauthorizedError(`signed header ${name} is missing from the request`);
      // A CR or LF inside a value could forge lines of the canonical request: never a real header.
      if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v)) throw new UnauthorizedError(`signed header ${name} contains a control character (CR or LF)`);
      return `${name}:${v.trim()}\n`;
    })
    .join('');
  // UNSIGNED-PAYLOAD is for multipart uploads only; a JSON body is always covered by the signature.
  const contentSha = req.headers['x-sdk-content-sha256'];
  const payloadHash = contentSha === 'UNSIGNED-PAYLOAD' && req.body.length === 0 ? contentSha : sha256Hex(req.body);
  return [req.method.toUpperCase(), canonicalUri(req.rawPath), canonicalQuery(req.rawQuery), headerBlock, signedHeaders.join(';'), payloadHash].join('\n');
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return `${ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

export function sign(secretKey: string, toSign: string): string {
  return createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(toSign).digest('hex');
}

/**
 * Verify a request's signature. Returns the access key that signed it; throws UnauthorizedError
 * with the reason otherwise. `secretFor` returns undefined for an unknown access key.
 */
export async function verifySignature(
  req: SignedRequest,
  secretFor: (accessKey: string) => Promise<string | undefined>,
  now: Date = new Date(),
): Promise<string> {
  const auth = parseAuthorization(req.headers['authorization']);
  const sdkDate = req.headers['x-sdk-date'];
  const at = parseSdkDate(sdkDate);
  if (!at || !sdkDate) throw new UnauthorizedError('X-Sdk-Date is missing or not in YYYYMMDDTHHMMSSZ form');
  if (Math.abs(now.getTime() - at.getTime()) > MAX_CLOCK_SKEW_MS) throw new UnauthorizedError('the request time is outside the allowed 15-minute window');
  for (const required of ['host', 'x-sdk-date']) {
    if (!auth.signedHeaders.includes(required)) throw new UnauthorizedError(`the ${required} header must be signed`);
  }
  if (req.headers['x-project-id'] !== undefined && !auth.signedHeaders.includes('x-project-id')) {
    throw new UnauthorizedError('the x-project-id header must be signed');
  }
  const sorted = [...auth.signedHeaders].sort();
  if (sorted.join(';') !== auth.signedHeaders.join(';') || new Set(sorted).size !== sorted.length) {
    throw new UnauthorizedError('SignedHeaders must be sorted and unique');
  }
  const secret = await secretFor(auth.accessKey);
  const expected = sign(secret ?? 'unknown-access-key', stringToSign(sdkDate, canonicalRequest(req, auth.signedHeaders)));
  const ok = timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(auth.signature, 'hex'));
  if (!secret || !ok) throw new UnauthorizedError('the signature does not match');
  return auth.accessKey;
}
