/**
 * PostgreSQL errors, decided once: what a retry can fix (RetryableError), what it cannot
 * (FatalEngineError), and what a failed connection test tells the user (the seed's DRS.KE*
 * codes). Messages never carry the password, the SQL text or row values.
 */
import { FatalEngineError, RetryableError, type ConnectionTestResult } from '../engine.js';

interface DriverError extends Error {
  code?: string;
  severity?: string;
  detail?: string;
}

/** Thrown by our own connect timer so the timeout is told apart from a server's refusal. */
export class ConnectTimeoutError extends Error {
  readonly code = 'DRS_CONNECT_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'ConnectTimeoutError';
  }
}

const RETRYABLE_NODE = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'DRS_CONNECT_TIMEOUT']);
/**
 * 40001 serialization failure, 40P01 deadlock, 55P03 lock not available, 57P01 admin shutdown,
 * 57P02 crash shutdown, 57P03 cannot connect now, 53300 too many connections, 08xxx connection
 * exceptions, 55006 object in use (a replication slot still held by the walsender of a run that
 * is just stopping: a resume right after a pause finds it busy for a moment).
 */
const RETRYABLE_SQLSTATE = new Set(['40001', '40P01', '55P03', '55006', '57P01', '57P02', '57P03', '53300']);
const LOST_CONNECTION = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection/i;

function scrub(text: string, password?: string): string {
  return password && password.length > 0 ? text.split(password).join('***') : text;
}

function describe(e: DriverError, password?: string): string {
  const msg = scrub(e.message ?? String(e), password);
  if (e.code && /^[0-9A-Z]{5}$/.test(e.code)) return `PostgreSQL error ${e.code}: ${msg}`;
  if (e.code && !msg.includes(e.code)) return `${msg} (${e.code})`;
  return msg;
}

/** pg_hba.conf refused a plain connection: over TLS it might be accepted (hostssl only). */
export function isRefusedWithoutTls(e: unknown): boolean {
  const d = e as DriverError;
  return d?.code === '28000' && /pg_hba\.conf/.test(d.message ?? '') && /no encryption/i.test(d.message ?? '');
}

export function isRetryablePostgresError(e: unknown): boolean {
  const d = e as DriverError;
  if (!d) return false;
  if (d.code && (RETRYABLE_NODE.has(d.code) || RETRYABLE_SQLSTATE.has(d.code) || d.code.startsWith('08'))) return true;
  return !d.code && LOST_CONNECTION.test(d.message ?? '');
}

/**
 * RetryableError for what a retry can fix, FatalEngineError for any other database error, and
 * anything else (our own errors, programming errors) unchanged. The cause is kept.
 */
export function classifyPostgresError(e: unknown, password?: string): unknown {
  if (e instanceof RetryableError || e instanceof FatalEngineError) return e;
  if (!(e instanceof Error)) return e;
  const d = e as DriverError;
  if (isRetryablePostgresError(d)) return new RetryableError(describe(d, password), { cause: e });
  const fromDriver = (d.code !== undefined && /^([0-9A-Z]{5}|E[A-Z]+|ERR_TLS.*|ERR_SSL.*|ERR_OSSL.*)$/.test(d.code)) || d.severity !== undefined;
  if (fromDriver) return new FatalEngineError(describe(d, password), { cause: e });
  if (password && e.message.includes(password)) return new FatalEngineError(scrub(e.message, password), { cause: e });
  return e;
}

const TLS_CODES = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_|ERR_TLS_|ERR_SSL_|ERR_OSSL_|INVALID_CA|UNABLE_TO_DECRYPT)/;

/** Map a failed connect/authenticate/SELECT 1 to the seed's DRS.KE* code and an actionable message. */
export function describeConnectFailure(
  e: unknown,
  where: { host: string; port: number; user: string; database: string; ssl: boolean; password?: string },
): Pick<ConnectionTestResult, 'code' | 'message'> {
  const d = (e ?? {}) as DriverError;
  const code = d.code ?? '';
  const msg = d.message ?? '';
  const at = `${where.host}:${where.port}`;
  const detail = describe(d, where.password);
  if (e instanceof ConnectTimeoutError || code === 'ETIMEDOUT' || /timeout expired|connection timeout/i.test(msg)) {
    const ms = e instanceof ConnectTimeoutError ? ` after ${e.timeoutMs} ms` : '';
    return { code: 'DRS.KE0001', message: `Connecting to ${at} timed out${ms}. Check the host and port, that the database is running, and that firewalls and security groups let this service reach it.` };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    return { code: 'DRS.KE0018', message: `The host name ${where.host} could not be resolved (${code}). Check the spelling of the host name or use its IP address.` };
  }
  if (code === 'ECONNREFUSED') {
    return { code: 'DRS.KE0003', message: `${at} refused the connection: nothing is listening on port ${where.port}. Check the port number, that PostgreSQL is running, and that listen_addresses includes this interface.` };
  }
  if (['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ECONNRESET', 'EPIPE'].includes(code) || /Connection terminated unexpectedly/i.test(msg)) {
    return { code: 'DRS.KE0001', message: `The network connection to ${at} failed (${code || msg}). Check the host, routing, firewalls and security groups.` };
  }
  if (/does not support SSL/i.test(msg)) {
    return { code: 'DRS.KE0010', message: `SSL is enabled for this connection but the server at ${at} does not support SSL. Disable SSL for this connection or set ssl=on on the server.` };
  }
  if ((code && TLS_CODES.test(code)) || /certificate|ssl routines/i.test(msg)) {
    return { code: 'DRS.KE0022', message: `The SSL handshake with ${at} failed: ${detail}. Upload the CA certificate that signed the server's certificate (PEM), or turn off certificate verification.` };
  }
  switch (code) {
    case '28P01':
      return { code: 'DRS.KE0002', message: `Password authentication failed for user ${where.user}. Check the user name and password.` };
    case '28000':
      if (/does not exist/i.test(msg)) return { code: 'DRS.KE0002', message: `The role ${where.user} does not exist. Check the user name.` };
      if (/not permitted to log in/i.test(msg)) return { code: 'DRS.KE0007', message: `The role ${where.user} may not log in. Run ALTER ROLE ... LOGIN to allow it.` };
      if (/pg_hba\.conf/i.test(msg)) {
        return { code: 'DRS.KE0006', message: `pg_hba.conf on ${at} has no entry allowing ${where.user} to connect to ${where.database} from this host. Add a host (or hostssl) line for this user and reload the server.` };
      }
      return { code: 'DRS.KE0002', message: `Authentication failed for ${where.user}: ${detail}. Check the user name and password.` };
    case '3D000':
      return { code: 'DRS.KE0008', message: `The database ${where.database} does not exist on ${at}. Create it or enter an existing database name.` };
    case '42501':
      return { code: 'DRS.KE0012', message: `User ${where.user} may not connect to database ${where.database} (no CONNECT privilege). Run GRANT CONNECT ON DATABASE ... TO the user.` };
    case '53300':
      return { code: 'DRS.KE0048', message: `The server at ${at} has too many connections. Retry later or raise max_connections.` };
    case '57P03':
      return { code: 'DRS.KE0048', message: `The server at ${at} is not accepting connections now (starting up, shutting down or in recovery). Retry later.` };
    default:
      return { code: 'DRS.KE0004', message: `Connection to ${at} failed: ${detail}. Check the security group, firewall and SSL configuration of the database.` };
  }
}
