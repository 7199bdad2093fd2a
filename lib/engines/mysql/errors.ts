/**
 * MySQL/MariaDB errors, decided once: what a retry can fix (RetryableError), what it cannot
 * (FatalEngineError), and what a failed connection test tells the user (the seed's DRS.KE*
 * codes). Messages never carry the password, the SQL text or row values.
 */
import { FatalEngineError, RetryableError, type ConnectionTestResult } from '../engine.js';

/** Driver error shape (mysql2 QueryError plus Node socket errors). */
interface DriverError extends Error {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  fatal?: boolean;
}

/** Thrown by our own connect timer so the timeout is told apart from a server's refusal. */
export class ConnectTimeoutError extends Error {
  readonly code = 'DRS_CONNECT_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'ConnectTimeoutError';
  }
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'DRS_CONNECT_TIMEOUT',
  'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED', 'ER_CLIENT_INTERACTION_TIMEOUT', 'ER_NET_READ_ERROR', 'ER_NET_READ_INTERRUPTED',
  'ER_NET_ERROR_ON_WRITE', 'ER_NET_WRITE_INTERRUPTED', 'ER_LOCK_TABLE_FULL',
]);
/**
 * 1213 deadlock, 1205 lock wait timeout, 1040 too many connections, 1203 user connection limit,
 * 1053 server shutdown, 1927 connection killed (MariaDB), 1317 query interrupted, 2006 server has
 * gone away, 2013 lost connection, 1158-1161 network read/write errors, 4031 idle timeout, 1206 lock table full.
 */
const RETRYABLE_ERRNOS = new Set([1213, 1205, 1040, 1203, 1053, 1927, 1317, 2006, 2013, 1158, 1159, 1160, 1161, 4031, 1206]);

function scrub(text: string, password?: string): string {
  return password && password.length > 0 ? text.split(password).join('***') : text;
}

function describe(e: DriverError, password?: string): string {
  const msg = scrub(e.sqlMessage ?? e.message ?? String(e), password);
  if (e.errno && e.sqlState) return `MySQL error ${e.errno} (${e.sqlState}): ${msg}`;
  if (e.code && !msg.includes(e.code)) return `${msg} (${e.code})`;
  return msg;
}

export function isRetryableMySqlError(e: unknown): boolean {
  const d = e as DriverError;
  return !!d && ((d.code !== undefined && RETRYABLE_CODES.has(d.code)) || (d.errno !== undefined && RETRYABLE_ERRNOS.has(d.errno)));
}

/**
 * RetryableError for what a retry can fix (connection loss, deadlock, lock wait timeout, too
 * many connections, server restarting), FatalEngineError for any other database error, and
 * anything else (our own errors, programming errors) unchanged. The cause is kept.
 */
export function classifyMySqlError(e: unknown, password?: string): unknown {
  if (e instanceof RetryableError || e instanceof FatalEngineError) return e;
  if (!(e instanceof Error)) return e;
  const d = e as DriverError;
  if (isRetryableMySqlError(d)) return new RetryableError(describe(d, password), { cause: e });
  const fromDriver = d.errno !== undefined || d.sqlState !== undefined || (typeof d.code === 'string' && /^(ER_|E[A-Z]+$|PROTOCOL_|HANDSHAKE_|ERR_TLS|ERR_SSL|POOL_)/.test(d.code));
  if (fromDriver) return new FatalEngineError(describe(d, password), { cause: e });
  if (password && e.message.includes(password)) return new FatalEngineError(scrub(e.message, password), { cause: e });
  return e;
}

const TLS_CODES = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_|ERR_TLS_|ERR_SSL_|ERR_OSSL_|HANDSHAKE_SSL_ERROR|INVALID_CA|UNABLE_TO_DECRYPT)/;

export function isAccessDenied(e: unknown): boolean {
  const d = e as DriverError;
  return d?.errno === 1045 || d?.code === 'ER_ACCESS_DENIED_ERROR';
}

export function isTlsFailure(e: unknown): boolean {
  const d = e as DriverError;
  return !!d && ((typeof d.code === 'string' && TLS_CODES.test(d.code)) || /certificate|ssl routines|tls/i.test(d.message ?? ''));
}

/** Map a failed connect/authenticate/SELECT 1 to the seed's DRS.KE* code and an actionable message. */
export function describeConnectFailure(
  e: unknown,
  where: { host: string; port: number; user: string; database?: string; ssl: boolean; password?: string },
): Pick<ConnectionTestResult, 'code' | 'message'> {
  const d = e as DriverError;
  const code = d?.code ?? '';
  const at = `${where.host}:${where.port}`;
  const detail = describe(d, where.password);
  if (e instanceof ConnectTimeoutError) {
    return { code: 'DRS.KE0001', message: `Connecting to ${at} timed out after ${e.timeoutMs} ms. Check the host and port, that the database is running, and that firewalls and security groups let this service reach it.` };
  }
  if (code === 'ETIMEDOUT' || code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
    return { code: 'DRS.KE0001', message: `Connecting to ${at} timed out. Check the host and port, that the database is running, and that firewalls and security groups let this service reach it.` };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    return { code: 'DRS.KE0018', message: `The host name ${where.host} could not be resolved (${code}). Check the spelling of the host name or use its IP address.` };
  }
  if (code === 'ECONNREFUSED') {
    return { code: 'DRS.KE0003', message: `${at} refused the connection: nothing is listening on port ${where.port}. Check the port number and that the database is running and accepts TCP connections.` };
  }
  if (['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST'].includes(code)) {
    return { code: 'DRS.KE0001', message: `The network connection to ${at} failed (${code}). Check the host, routing, firewalls and security groups.` };
  }
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return { code: 'DRS.KE0010', message: `SSL is enabled for this connection but the server at ${at} does not support SSL. Disable SSL for this connection or enable it on the server.` };
  }
  if (isTlsFailure(d)) {
    return { code: 'DRS.KE0022', message: `The SSL handshake with ${at} failed: ${detail}. Upload the CA certificate that signed the server's certificate (PEM), or turn off certificate verification.` };
  }
  switch (d?.errno) {
    case 1045:
      return { code: 'DRS.KE0002', message: `Access denied for user ${where.user}: the user name or password is incorrect, or the user may not connect from this host. Check both and that the account exists for this client host (CREATE USER 'user'@'%').` };
    case 1049:
      return { code: 'DRS.KE0008', message: `The database ${where.database ?? ''} does not exist on ${at}. Create it or enter an existing database name.` };
    case 1044:
      return { code: 'DRS.KE0012', message: `User ${where.user} has no privilege on database ${where.database ?? ''}. Grant access (GRANT SELECT ON db.* TO ...) or choose another database.` };
    case 3159:
    case 4059:
      return { code: 'DRS.KE0010', message: `The server at ${at} only accepts SSL connections. Enable SSL for this connection and upload the server's CA certificate.` };
    case 1040:
    case 1203:
      return { code: 'DRS.KE0048', message: `The server at ${at} has too many connections (${detail}). Retry later or raise max_connections / the user's connection limit.` };
    case 3118:
    case 4151:
      return { code: 'DRS.KE0038', message: `The account ${where.user} is locked. Unlock it (ALTER USER ... ACCOUNT UNLOCK) and try again.` };
    case 1862:
    case 1820:
      return { code: 'DRS.KE0055', message: `The password of ${where.user} has expired. Reset it and try again.` };
    case 1130:
      return { code: 'DRS.KE0005', message: `The server does not allow ${where.user} to connect from this host. Create a user that may connect remotely (CREATE USER 'user'@'%').` };
    default:
      return { code: 'DRS.KE0004', message: `Connection to ${at} failed: ${detail}. Check the security group, firewall and SSL configuration of the database.` };
  }
}
