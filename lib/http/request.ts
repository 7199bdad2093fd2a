/**
 * What the edge reads from an API Gateway HTTP API (payload v2) event: raw path, raw query,
 * headers, body bytes. The local runtime builds the same event shape, so this is the only
 * place that knows it.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Dialect } from '../errors.js';
import { InvalidParameterError } from '../errors.js';
import type { SignedRequest } from '../auth/signature.js';

export type QueryParams = Record<string, string | string[]>;

export function dialectOf(rawPath: string): Dialect {
  if (rawPath.startsWith('/v3/')) return 'v3';
  if (rawPath.startsWith('/api/')) return 'oms';
  return 'v5';
}

export function bodyBytes(event: APIGatewayProxyEventV2): Buffer {
  if (event.body == null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** Lower-cased header map (API Gateway already lower-cases; the local runtime does too). */
export function headersOf(event: APIGatewayProxyEventV2): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

export function signedRequestOf(event: APIGatewayProxyEventV2): SignedRequest {
  return {
    method: event.requestContext.http.method,
    rawPath: event.rawPath,
    rawQuery: event.rawQueryString ?? '',
    headers: headersOf(event),
    body: bodyBytes(event),
  };
}

/** Parse the raw query; a repeated key becomes an array (`instance_ids=a&instance_ids=b`). */
export function parseQuery(raw: string): QueryParams {
  const out: QueryParams = {};
  for (const part of raw.split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    let k: string;
    let v: string;
    try {
      k = decodeURIComponent((i < 0 ? part : part.slice(0, i)).replace(/\+/g, ' '));
      v = decodeURIComponent((i < 0 ? '' : part.slice(i + 1)).replace(/\+/g, ' '));
    } catch {
      throw new InvalidParameterError('query', 'the query string is not validly percent-encoded');
    }
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw new InvalidParameterError(k, 'reserved query parameter name');
    // Own keys only: `toString=1` must not find Object.prototype.toString and merge with it.
    const prev = Object.hasOwn(out, k) ? out[k] : undefined;
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
