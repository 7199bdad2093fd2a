/**
 * The official Huawei SDK core (npm @huaweicloud/huaweicloud-sdk-core), used by tests as an
 * independent signer and client: what a real DRS SDK user sends is what our edge must accept.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const core = { ...require('@huaweicloud/huaweicloud-sdk-core'), ...require('@huaweicloud/huaweicloud-sdk-core/ClientBuilder') } as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { AKSKSigner } = require('@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner') as any;
// The SDK logs every failed request through log4js; tests provoke failures on purpose.
require('log4js').configure({ appenders: { out: { type: 'stdout' } }, categories: { default: { appenders: ['out'], level: 'off' } } });

export interface Cred {
  accessKey: string;
  secretKey: string;
  projectId: string;
}

export interface HuaweiResponse {
  httpStatusCode: number;
  [k: string]: unknown;
}

export interface HuaweiError {
  httpStatusCode: number;
  errorCode?: string;
  errorMsg?: string;
  requestId?: string;
}

/** An HcClient as every generated DRS SDK service client builds it. */
export function huaweiClient(endpoint: string, cred: Cred) {
  const credentials = new core.BasicCredentials().withAk(cred.accessKey).withSk(cred.secretKey).withProjectId(cred.projectId);
  const hc = new core.ClientBuilder((c: unknown) => c).withEndpoint(endpoint).withCredential(credentials).build();
  return {
    async call(method: string, url: string, opts: { query?: Record<string, unknown>; body?: unknown; path?: Record<string, string> } = {}): Promise<HuaweiResponse> {
      try {
        return await hc.sendRequest({
          method,
          url,
          contentType: 'application/json',
          queryParams: opts.query ?? {},
          pathParams: { project_id: cred.projectId, ...(opts.path ?? {}) },
          headers: {},
          data: opts.body,
        });
      } catch (e) {
        const err = e as HuaweiError;
        if (typeof err.httpStatusCode === 'number') return { httpStatusCode: err.httpStatusCode, error_code: err.errorCode, error_msg: err.errorMsg, request_id: err.requestId };
        throw e;
      }
    },
  };
}

/**
 * Sign a request with the SDK's own signer and return the headers it would send.
 * `path` is the URL path, `query` the params as the SDK takes them.
 */
export function huaweiSign(opts: { method: string; host: string; path: string; query?: Record<string, string | string[]>; body?: unknown; rawBody?: string; contentSha256?: string; cred: Cred; date?: string }): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'X-Project-Id': opts.cred.projectId };
  if (opts.date) headers['X-Sdk-Date'] = opts.date;
  // A raw (non-JSON.stringify) body: the signer takes its hash from X-Sdk-Content-Sha256.
  if (opts.rawBody !== undefined) headers['X-Sdk-Content-Sha256'] = createHash('sha256').update(opts.rawBody).digest('hex');
  if (opts.contentSha256 !== undefined) headers['X-Sdk-Content-Sha256'] = opts.contentSha256;
  const request = { endpoint: `http://${opts.host}${opts.path}`, method: opts.method, headers, queryParams: opts.query ?? {}, data: opts.body };
  const credential = { getAk: () => opts.cred.accessKey, getSk: () => opts.cred.secretKey };
  return AKSKSigner.sign(request, credential);
}

/** The query string exactly as the Node SDK (axios) puts it on the wire. */
export function sdkQueryString(query: Record<string, string | string[]> = {}): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(x)}`);
  return parts.join('&');
}
