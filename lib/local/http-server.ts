/**
 * The local API Gateway: one Node HTTP server that turns each request into an HTTP API
 * (payload 2.0) event for the function whose route matches, and writes its result back.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from '../logger.js';
import { invoke } from './lambda.js';
import { matchRoute, type Route } from './routes.js';

/** API Gateway's own payload limit. Handlers apply the service's smaller limit. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function gatewayError(res: ServerResponse, status: number, code: string, msg: string, requestId: string) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
  res.end(JSON.stringify({ error_code: code, error_msg: msg, request_id: requestId }));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function buildEvent(req: IncomingMessage, route: Route, params: Record<string, string>, body: Buffer, requestId: string) {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQueryString = q < 0 ? '' : url.slice(q + 1);
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i].toLowerCase();
    headers[k] = headers[k] === undefined ? req.rawHeaders[i + 1] : `${headers[k]},${req.rawHeaders[i + 1]}`;
  }
  let text: string | undefined;
  try {
    text = body.length ? utf8.decode(body) : undefined;
  } catch {
    text = undefined;
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    headers,
    pathParameters: Object.keys(params).length ? params : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      http: { method: req.method ?? 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '', userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : text ?? body.toString('base64'),
    isBase64Encoded: body.length > 0 && text === undefined,
  };
}

export function startHttpServer(table: Route[], port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const rawPath = (req.url ?? '/').split('?')[0];
      const hit = matchRoute(table, (req.method ?? 'GET').toUpperCase(), rawPath);
      if (!hit) return gatewayError(res, 404, 'APIGW.0101', 'The API does not exist or has not been published in the environment', requestId);
      const body = await readBody(req);
      if (!body) return gatewayError(res, 413, 'APIGW.0201', 'Request entity too large', requestId);
      const out = (await invoke(hit.route, buildEvent(req, hit.route, hit.params, body, requestId), 30_000)) as {
        statusCode?: number;
        headers?: Record<string, string>;
        body?: string;
        isBase64Encoded?: boolean;
      };
      res.writeHead(out?.statusCode ?? 200, { 'x-request-id': requestId, ...(out?.headers ?? {}) });
      res.end(out?.body ? (out.isBase64Encoded ? Buffer.from(out.body, 'base64') : out.body) : undefined);
    } catch (error) {
      logger.error('local gateway: handler crashed', { requestId, error });
      if (!res.headersSent) gatewayError(res, 500, 'APIGW.0103', 'The backend is unavailable', requestId);
      else res.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export const serverPort = (s: Server) => (s.address() as AddressInfo).port;
