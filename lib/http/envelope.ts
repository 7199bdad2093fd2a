/**
 * Responses and errors on the wire. DRS: bare JSON bodies, errors as {error_code, error_msg}
 * (plus request_id, as the gateway sends). OMS: its own envelope. One table maps every AppError
 * to its status and dialect code; anything unknown is a generic 500 that leaks nothing.
 */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { AppError, INTERNAL_ERROR_CODES, type Dialect } from '../errors.js';

/** A handler result with an explicit status (otherwise the route's default applies). */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export const reply = (status: number, body: unknown, headers?: Record<string, string>) => new Reply(status, body, headers);

export function jsonResponse(status: number, body: unknown, requestId: string, headers: Record<string, string> = {}): APIGatewayProxyResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json;charset=UTF-8', 'x-request-id': requestId, ...headers },
    body: body === undefined || status === 204 ? '' : JSON.stringify(body),
  };
}

export function errorResponse(error: unknown, dialect: Dialect, requestId: string): APIGatewayProxyResultV2 {
  const known = error instanceof AppError;
  const status = known ? error.status : 500;
  const code = known ? error.codes[dialect] : INTERNAL_ERROR_CODES[dialect];
  const message = known ? error.message : `Internal error. Quote request id ${requestId} when reporting it.`;
  if (dialect === 'oms') {
    return jsonResponse(status, { success: false, code, message, errorDetail: { code, message }, advice: null, requestId, cost: '0 ms', data: null }, requestId);
  }
  return jsonResponse(status, { error_code: code, error_msg: message.slice(0, 512), request_id: requestId }, requestId);
}
