/**
 * The error model. Domain code throws these; the HTTP edge (lib/http/envelope.ts) maps them to a
 * status and to the error code of the API dialect being served, and Step Functions matches them
 * by `name` in Retry/Catch. `name` is always a string literal so bundling cannot rename it.
 */

/** The API families we speak: DRS v3, DRS v5, OMS OpenAPI. */
export type Dialect = 'v3' | 'v5' | 'oms';

export type ErrorCodes = Readonly<Record<Dialect, string>>;

export abstract class AppError extends Error {
  /** HTTP status the edge answers with. */
  abstract readonly status: number;
  /** Error code per dialect (the seed's codes). */
  abstract readonly codes: ErrorCodes;
  readonly details?: Record<string, unknown>;
  constructor(message: string, opts?: ErrorOptions & { details?: Record<string, unknown> }) {
    super(message, opts);
    this.details = opts?.details;
  }
}

/** A request field is missing, malformed or out of range. Names the field. */
export class InvalidParameterError extends AppError {
  readonly status = 400;
  readonly codes: ErrorCodes = { v3: 'DRS.M00202', v5: 'DRS.10020002', oms: 'PARAM_ERROR' };
  constructor(readonly field: string, reason: string) {
    super(field ? `Invalid parameter ${field}: ${reason}` : `Invalid request: ${reason}`, { details: { field } });
    this.name = 'InvalidParameterError';
  }
}

/** The request body is larger than the edge accepts. */
export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  readonly codes: ErrorCodes = { v3: 'DRS.M00300', v5: 'DRS.10020111', oms: 'PARAM_ERROR' };
  constructor(limit: number) {
    super(`The request body exceeds ${limit} bytes.`);
    this.name = 'PayloadTooLargeError';
  }
}

/**
 * The request is well-formed but would make a stored item larger than the store can hold
 * (DynamoDB: 400 KB per item), e.g. an object selection of thousands of tables.
 */
export class StoreLimitError extends AppError {
  readonly status = 413;
  readonly codes: ErrorCodes = { v3: 'DRS.M00300', v5: 'DRS.10020111', oms: 'PARAM_ERROR' };
  constructor(cause?: unknown) {
    super('The request makes the stored configuration larger than the 400 KB the store holds per item; select fewer objects or send smaller values.', { cause });
    this.name = 'StoreLimitError';
  }
}

/** A body was sent with a Content-Type other than application/json. */
export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  readonly codes: ErrorCodes = { v3: 'DRS.M00300', v5: 'DRS.10020000', oms: 'PARAM_ERROR' };
  constructor(got: string) {
    super(`Content-Type must be application/json, got "${got.slice(0, 64)}".`);
    this.name = 'UnsupportedMediaTypeError';
  }
}

/** Authentication failed. Always the gateway's code, whatever the dialect. */
export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly codes: ErrorCodes = { v3: 'APIGW.0301', v5: 'APIGW.0301', oms: 'APIGW.0301' };
  constructor(reason: string) {
    super(`Incorrect IAM authentication information: ${reason}`);
    this.name = 'UnauthorizedError';
  }
}

/**
 * A resource does not exist in the caller's project. Also answered for another project's ids,
 * so ids do not leak (404, never 403).
 */
export class NotFoundError extends AppError {
  readonly status = 404;
  constructor(
    readonly resource: string,
    readonly id: string,
    readonly codes: ErrorCodes = { v3: 'DRS.M00202', v5: 'DRS.10020002', oms: 'PARAM_ERROR' },
  ) {
    super(`The ${resource} ${JSON.stringify(id.slice(0, 80))} does not exist in this project.`, { details: { resource } });
    this.name = 'NotFoundError';
  }
}

/** A name or key is already taken (per project). */
export class ConflictError extends AppError {
  readonly status = 400;
  constructor(
    message: string,
    readonly codes: ErrorCodes,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Optimistic locking lost: someone else changed the item since it was read. */
export class ConcurrentUpdateError extends AppError {
  readonly status = 409;
  readonly codes: ErrorCodes = { v3: 'DRS.M01504', v5: 'DRS.10000001', oms: 'GHANA-OPERAT-CONFLICT' };
  constructor(what: string, opts?: ErrorOptions) {
    super(`Another operation is being performed on ${what}; retry the request.`, opts);
    this.name = 'ConcurrentUpdateError';
  }
}

/** A feature that exists on Huawei Cloud but has no meaning in this deployment. */
export class NotApplicableError extends AppError {
  readonly status = 400;
  readonly codes: ErrorCodes = { v3: 'DRS.M00300', v5: 'DRS.10020002', oms: 'PARAM_ERROR' };
  constructor(what: string, why: string) {
    super(`${what} does not apply to this deployment: ${why}`);
    this.name = 'NotApplicableError';
  }
}

/** The edge caught something it does not know: 500, generic message, logged with the request id. */
export const INTERNAL_ERROR_CODES: ErrorCodes = { v3: 'DRS.M0004', v5: 'DRS.10000001', oms: 'INTERNAL_ERROR' };
