/**
 * The one middy stack every API function uses: request id and dialect, error envelope,
 * authentication, JSON body, zod validation, response. A handler file is a schema plus one call
 * into lib/; it never builds a status code or an error body itself.
 *
 * A request that fails here (bad signature, bad JSON, invalid field) is answered before the
 * handler runs, so it cannot change state.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { authenticate, type Caller } from '../auth/authenticate.js';
import { credentialStore, type CredentialStore } from '../auth/credentials.js';
import { verifySignature } from '../auth/signature.js';
import { config } from '../config.js';
import { InvalidParameterError, PayloadTooLargeError, UnsupportedMediaTypeError, type Dialect } from '../errors.js';
import { logger } from '../logger.js';
import { errorResponse, jsonResponse, Reply } from './envelope.js';
import { bodyBytes, dialectOf, headersOf, parseQuery, signedRequestOf } from './request.js';

export interface ApiContext {
  requestId: string;
  dialect: Dialect;
  /** The authenticated caller; `projectId` is the path's project, already checked. */
  caller: Caller;
  projectId: string;
}

export interface ApiInput {
  path: Record<string, string>;
  query: Record<string, string | string[]>;
  body: unknown;
}

export interface ApiOptions {
  /** Status for a plain (non-Reply) result. Default 200. */
  status?: number;
  /**
   * `project` (default): the path's {project_id} must be one the caller's credential covers.
   * `signature`: any valid AK/SK signature; the handler decides what it may do.
   */
  auth?: 'project' | 'signature';
  credentials?: () => CredentialStore;
}

type Event = APIGatewayProxyEventV2 & { ctx?: ApiContext; input?: ApiInput; started?: number };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Deepest JSON nesting a body may have. DRS bodies need about 12 levels (a column under a table
 * under a schema under a database of a db_object update); DynamoDB stores at most 32, and JSON
 * that deep would overflow the stack of anything that walks it recursively.
 */
export const MAX_JSON_DEPTH = 24;

/** Nesting depth of a JSON text, counted without parsing (brackets inside strings do not count). */
export function jsonDepth(text: string, stopAt = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > stopAt) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

function requestContext(): MiddlewareObj<Event, APIGatewayProxyResultV2> {
  return {
    before: ({ event, context }) => {
      event.started = Date.now();
      const requestId = event.requestContext?.requestId || context?.awsRequestId || randomUUID();
      event.ctx = { requestId, dialect: dialectOf(event.rawPath ?? ''), caller: undefined as never, projectId: '' };
    },
    after: (request) => {
      const { event, response } = request;
      const status = typeof response === 'object' && response ? (response as { statusCode?: number }).statusCode : undefined;
      logger.info('request', { requestId: event.ctx?.requestId, method: event.requestContext?.http?.method, route: event.routeKey, status, ms: Date.now() - (event.started ?? Date.now()), projectId: event.ctx?.projectId });
    },
    onError: (request) => {
      const { event, error } = request;
      const ctx = event.ctx ?? { requestId: randomUUID(), dialect: 'v5' as Dialect };
      const res = errorResponse(error, ctx.dialect, ctx.requestId);
      const status = (res as { statusCode: number }).statusCode;
      if (status >= 500) logger.error('request failed', { requestId: ctx.requestId, route: event.routeKey, error });
      else logger.info('request rejected', { requestId: ctx.requestId, route: event.routeKey, status, error });
      request.response = res;
    },
  };
}

function authentication(opts: ApiOptions): MiddlewareObj<Event, APIGatewayProxyResultV2> {
  return {
    before: async ({ event }) => {
      const store = (opts.credentials ?? credentialStore)();
      const ctx = event.ctx!;
      if (opts.auth === 'signature') {
        const accessKey = await verifySignature(signedRequestOf(event), async (ak) => (await store.get(ak))?.secretKey);
        ctx.caller = { projectId: '', accessKey, via: 'signature' };
        return;
      }
      const projectId = event.pathParameters?.project_id;
      ctx.caller = await authenticate(signedRequestOf(event), projectId, store);
      ctx.projectId = ctx.caller.projectId;
    },
  };
}

function jsonInput(): MiddlewareObj<Event, APIGatewayProxyResultV2> {
  return {
    before: ({ event }) => {
      const bytes = bodyBytes(event);
      const limit = config().DRS_MAX_BODY_BYTES;
      if (bytes.length > limit) throw new PayloadTooLargeError(limit);
      let body: unknown;
      if (bytes.length > 0) {
        const type = headersOf(event)['content-type'] ?? '';
        if (!/^application\/json\s*(;|$)/i.test(type)) throw new UnsupportedMediaTypeError(type);
        let text: string;
        try {
          text = decoder.decode(bytes);
        } catch {
          throw new InvalidParameterError('body', 'the request body is not valid UTF-8');
        }
        if (text.trim() !== '') {
          if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw new InvalidParameterError('body', `the JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
          try {
            body = JSON.parse(text);
          } catch {
            throw new InvalidParameterError('body', 'the request body is not valid JSON');
          }
        }
      }
      event.input = { path: { ...(event.pathParameters ?? {}) } as Record<string, string>, query: parseQuery(event.rawQueryString ?? ''), body };
    },
  };
}

/** zod issue → one InvalidParameterError naming the field as the client spelled it. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.map(String);
  const field = ['path', 'query', 'body'].includes(path[0]) ? path.slice(1).join('.') || path[0] : path.join('.');
  throw new InvalidParameterError(field, issue.message);
}

export function apiHandler<S extends z.ZodType>(schema: S, run: (input: z.infer<S>, ctx: ApiContext) => Promise<unknown>, opts: ApiOptions = {}) {
  return middy<Event, APIGatewayProxyResultV2, Error, Context>()
    .use(requestContext())
    .use(authentication(opts))
    .use(jsonInput())
    .handler(async (event) => {
      const ctx = event.ctx!;
      const input = parseOrThrow(schema, event.input);
      const result = await run(input, ctx);
      if (result instanceof Reply) return jsonResponse(result.status, result.body, ctx.requestId, result.headers);
      return jsonResponse(opts.status ?? 200, result, ctx.requestId);
    });
}
