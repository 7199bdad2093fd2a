/** API Gateway HTTP API (payload 2.0) events for calling a handler directly, signed by the official SDK signer. */
import { randomUUID } from 'node:crypto';
import { huaweiSign, sdkQueryString, type Cred } from './huawei.js';

export interface EventOptions {
  method: string;
  /** Route template, e.g. /v5/{project_id}/connections/{connection_id}. */
  route: string;
  params?: Record<string, string>;
  query?: Record<string, string | string[]>;
  body?: unknown;
  /** Raw body text instead of JSON.stringify(body). Signed as given. */
  rawBody?: string;
  cred: Cred;
  /** Applied after signing: tampering. */
  headers?: Record<string, string | undefined>;
  unsigned?: boolean;
}

export function apiEvent(o: EventOptions) {
  const params = { project_id: o.cred.projectId, ...(o.params ?? {}) };
  let rawPath = o.route;
  for (const [k, v] of Object.entries(params)) rawPath = rawPath.replace(`{${k}}`, encodeURIComponent(v));
  const host = 'drs.local:443';
  const bodyText = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  const signed = o.unsigned
    ? { 'content-type': 'application/json' }
    : huaweiSign({ method: o.method, host, path: rawPath, query: o.query, body: o.rawBody === undefined ? o.body : undefined, rawBody: o.rawBody, cred: o.cred });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed)) headers[k.toLowerCase()] = String(v);
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === undefined) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: `${o.method} ${o.route}`,
    rawPath,
    rawQueryString: sdkQueryString(o.query),
    headers,
    pathParameters: params,
    requestContext: { requestId, http: { method: o.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, routeKey: `${o.method} ${o.route}`, stage: '$default' },
    body: bodyText,
    isBase64Encoded: false,
  } as never;
}

export function lambdaCtx() {
  return { awsRequestId: randomUUID(), functionName: 'test', getRemainingTimeInMillis: () => 30_000 } as never;
}

export interface ApiResult {
  status: number;
  body: Record<string, unknown> & { error_code?: string; error_msg?: string };
  headers: Record<string, string>;
}

export async function call(handler: (e: never, c: never) => Promise<unknown>, event: never): Promise<ApiResult> {
  const res = (await handler(event, lambdaCtx())) as { statusCode: number; body?: string; headers: Record<string, string> };
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : {}, headers: res.headers };
}
