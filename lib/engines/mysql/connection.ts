/**
 * MySQL/MariaDB connections: the pool, session settings, identifier quoting, the connection
 * test, server facts and the binlog position.
 *
 * Every connection runs in UTC (`time_zone='+00:00'`) with dates, DECIMAL and BIGINT as strings,
 * JSON as text and binary data as Buffers, so values round-trip exactly. The session SQL mode
 * drops ANSI_QUOTES and NO_BACKSLASH_ESCAPES (our quoting and mysql2's escaping assume the
 * defaults) and NO_ZERO_DATE / NO_ZERO_IN_DATE (a source's zero dates are copied as they are;
 * strict mode stays on), and adds NO_AUTO_VALUE_ON_ZERO (a copied AUTO_INCREMENT value 0 stays 0);
 * foreign_key_checks is off in our sessions so chunks load in any order, as mysqldump does.
 * Values are always passed as query values (mysql2 escapes them client side, skipping quoted
 * text); identifiers are backtick-quoted with backticks doubled.
 */
import mysql from 'mysql2';
import type { Connection, FieldPacket, Pool, PoolConnection, PoolOptions, QueryOptions, SslOptions } from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { registerSecret } from '../../logger.js';
import type { CdcPosition, ConnectionTestResult, EndpointConfig, ServerInfo, TableRef } from '../engine.js';
import { FatalEngineError } from '../engine.js';
import { ConnectTimeoutError, classifyMySqlError, describeConnectFailure, isAccessDenied, isTlsFailure } from './errors.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_POOL_SIZE = 8;

/** Backtick-quote an identifier (database, table, column, index). */
export function qid(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new FatalEngineError('An object name is empty.');
  if (name.includes('\0')) throw new FatalEngineError('An object name contains a NUL character.');
  return '`' + name.replace(/`/g, '``') + '`';
}

/** `db`.`table` */
export function qtable(ref: TableRef): string {
  return `${qid(ref.db)}.${qid(ref.table)}`;
}

/**
 * Values crossing a JSON boundary (chunk bounds in the store) lose their Buffer-ness; restore it so
 * mysql2 escapes them as X'..' instead of treating them as objects.
 */
export function toDriverValue(v: unknown): unknown {
  if (v === null || v === undefined || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  const o = v as { type?: unknown; data?: unknown };
  if (o.type === 'Buffer' && Array.isArray(o.data)) return Buffer.from(o.data as number[]);
  return JSON.stringify(v);
}

/** Chunk bounds are stored as JSON: Buffers become `{type:'Buffer',data:[...]}` (toDriverValue undoes it). */
export function toJsonValue(v: unknown): unknown {
  return Buffer.isBuffer(v) ? v.toJSON() : v;
}

/** The session's SQL mode without these flags (and with NO_AUTO_VALUE_ON_ZERO added). */
const DROPPED_MODES = ['ANSI_QUOTES', 'NO_BACKSLASH_ESCAPES', 'NO_ZERO_DATE', 'NO_ZERO_IN_DATE', 'NO_AUTO_VALUE_ON_ZERO'];
const SESSION_SQL =
  "SET SESSION time_zone = '+00:00', SESSION foreign_key_checks = 0, SESSION sql_mode = CONCAT_WS(',', NULLIF(TRIM(BOTH ',' FROM " +
  DROPPED_MODES.reduce((expr, mode) => `REPLACE(${expr}, ',${mode},', ',')`, "CONCAT(',', @@SESSION.sql_mode, ',')") +
  "), ''), 'NO_AUTO_VALUE_ON_ZERO')";

function sslOptions(ssl: EndpointConfig['ssl']): SslOptions | undefined {
  if (!ssl?.enabled) return undefined;
  const verify = ssl.verify ?? ssl.ca !== undefined;
  return { ...(ssl.ca ? { ca: ssl.ca } : {}), rejectUnauthorized: verify };
}

function baseOptions(cfg: EndpointConfig, ssl: EndpointConfig['ssl'] = cfg.ssl) {
  return {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    ...(cfg.database ? { database: cfg.database } : {}),
    ssl: sslOptions(ssl),
    connectTimeout: cfg.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    charset: 'utf8mb4',
    timezone: 'Z' as const,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    jsonStrings: true,
    multipleStatements: false,
    enableKeepAlive: true,
  };
}

export type Row = Record<string, unknown>;

/** A pooled client; every method classifies errors (RetryableError / FatalEngineError). */
export class MySqlClient {
  private pool?: Pool;
  private info?: ServerInfo;
  private batch?: { conn: Connection; failed: boolean };
  private batchLease: Promise<unknown> = Promise.resolve();

  constructor(readonly cfg: EndpointConfig) {
    registerSecret(cfg.password);
  }

  private getPool(): Pool {
    if (!this.pool) {
      const opts: PoolOptions = {
        ...baseOptions(this.cfg),
        connectionLimit: this.cfg.poolSize ?? DEFAULT_POOL_SIZE,
        waitForConnections: true,
        queueLimit: 0,
        maxIdle: this.cfg.poolSize ?? DEFAULT_POOL_SIZE,
        idleTimeout: 60_000,
      };
      const pool = mysql.createPool(opts);
      // Queued before the connection is handed out, so every statement runs with these settings.
      pool.on('connection', (conn) => {
        conn.query(SESSION_SQL, (err) => {
          if (err) conn.destroy();
        });
      });
      this.pool = pool;
    }
    return this.pool;
  }

  classify(e: unknown): unknown {
    return classifyMySqlError(e, this.cfg.password);
  }

  /** Rows as objects keyed by column alias. */
  async rows<T = Row>(sql: string, values: unknown[] = []): Promise<T[]> {
    const [rows] = await this.run({ sql, values });
    return rows as T[];
  }

  /** Rows as arrays in select-list order. */
  async arrays(sql: string, values: unknown[] = [], extra: Partial<QueryOptions> = {}): Promise<{ rows: unknown[][]; fields: FieldPacket[] }> {
    const [rows, fields] = await this.run({ sql, values, rowsAsArray: true, ...extra });
    return { rows: rows as unknown[][], fields };
  }

  async exec(sql: string, values: unknown[] = []): Promise<{ affectedRows: number }> {
    const [res] = await this.run({ sql, values });
    return res as unknown as { affectedRows: number };
  }

  private run(opts: QueryOptions): Promise<[unknown, FieldPacket[]]> {
    return new Promise((resolve, reject) => {
      this.getPool().query(opts, (err, rows, fields) => (err ? reject(this.classify(err)) : resolve([rows, fields as FieldPacket[]])));
    });
  }

  /** A dedicated connection; the caller releases it (or destroys it when a result is left unread). */
  acquire(): Promise<PoolConnection> {
    return new Promise<PoolConnection>((resolve, reject) => {
      this.getPool().getConnection((err, c) => (err ? reject(this.classify(err)) : resolve(c)));
    });
  }

  /** A dedicated connection for `use`, always released. */
  async withConnection<T>(use: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      return await use(conn);
    } catch (e) {
      throw this.classify(e);
    } finally {
      conn.release();
    }
  }

  async serverInfo(): Promise<ServerInfo> {
    this.info ??= await readServerInfo(this);
    return this.info;
  }

  /**
   * Run `use` on this client's one connection that accepts several `;`-separated statements in
   * one query (the CDC applier sends a batch's statements in one round trip). The connection has
   * the pool's session settings, lives until `close()`, and is lent to one caller at a time. It is
   * replaced by a new one after it failed, or when `use` called `discard` (its state is unknown).
   * Statements sent on it must be built with `conn.format` / `conn.escape`: the same client-side
   * escaping mysql2 applies to query values.
   */
  withBatchConnection<T>(use: (conn: Connection, discard: () => void) => Promise<T>): Promise<T> {
    const turn = this.batchLease.then(async () => {
      const entry = await this.batchConnection();
      return use(entry.conn, () => (entry.failed = true));
    });
    this.batchLease = turn.catch(() => undefined);
    return turn;
  }

  private async batchConnection(): Promise<{ conn: Connection; failed: boolean }> {
    if (this.batch && !this.batch.failed) return this.batch;
    this.batch?.conn.destroy();
    this.batch = undefined;
    const conn = mysql.createConnection({ ...baseOptions(this.cfg), multipleStatements: true });
    const entry = { conn, failed: false };
    // Also reported while idle (server restart, timeout): a new connection next time.
    conn.on('error', () => (entry.failed = true));
    try {
      await new Promise<void>((resolve, reject) => conn.query(SESSION_SQL, (err) => (err ? reject(err) : resolve())));
    } catch (e) {
      conn.destroy();
      throw this.classify(e);
    }
    this.batch = entry;
    return entry;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    const batch = this.batch;
    this.batch = undefined;
    if (batch?.failed) batch.conn.destroy();
    else if (batch) await new Promise<void>((resolve) => batch.conn.end(() => resolve()));
    if (pool) await new Promise<void>((resolve) => pool.end(() => resolve()));
  }
}

/** Connect, authenticate and run SELECT VERSION() on a fresh connection, within `timeoutMs`. */
async function probe(cfg: EndpointConfig, ssl: EndpointConfig['ssl'], timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  let conn: mysqlPromise.Connection | undefined;
  let timedOut = false;
  const pending = mysqlPromise.createConnection({ ...baseOptions(cfg, ssl), connectTimeout: timeoutMs });
  pending.then((c) => (timedOut ? c.destroy() : undefined)).catch(() => undefined);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      conn?.destroy();
      reject(new ConnectTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    conn = await Promise.race([pending, timeout]);
    const [rows] = await Promise.race([conn.query({ sql: 'SELECT VERSION()', rowsAsArray: true }), timeout]);
    return String((rows as unknown[][])[0]![0]);
  } finally {
    clearTimeout(timer);
    conn?.destroy();
  }
}

/**
 * Connect + authenticate + query within the connect timeout; never throws.
 *
 * MariaDB refuses a plain connection under require_secure_transport with the same 1045 as a wrong
 * password, so after a 1045 without SSL we try once over TLS (without verifying the certificate,
 * only to tell the two apart): if that authenticates, the server requires SSL (KE0010).
 */
export async function testConnection(cfg: EndpointConfig): Promise<ConnectionTestResult> {
  registerSecret(cfg.password);
  const t0 = performance.now();
  const elapsedMs = () => Math.round(performance.now() - t0);
  const timeoutMs = cfg.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const where = { host: cfg.host, port: cfg.port, user: cfg.user, database: cfg.database, ssl: !!cfg.ssl?.enabled, password: cfg.password };
  try {
    const version = await probe(cfg, cfg.ssl, timeoutMs);
    return { success: true, message: `Connected to ${cfg.host}:${cfg.port} (${version}).`, version, elapsedMs: elapsedMs() };
  } catch (e) {
    if (isAccessDenied(e) && !cfg.ssl?.enabled) {
      const left = Math.max(1000, timeoutMs - elapsedMs());
      const overTls = await probe(cfg, { enabled: true, verify: false }, left).then(
        () => 'authenticated' as const,
        (e2: unknown) => (isTlsFailure(e2) || isAccessDenied(e2) ? ('same' as const) : ('other' as const)),
      );
      if (overTls === 'authenticated') {
        return {
          success: false,
          code: 'DRS.KE0010',
          message: `The server at ${cfg.host}:${cfg.port} only accepts SSL connections for ${cfg.user} (require_secure_transport or REQUIRE SSL). Enable SSL for this connection and upload the server's CA certificate.`,
          elapsedMs: elapsedMs(),
        };
      }
    }
    return { success: false, ...describeConnectFailure(e, where), elapsedMs: elapsedMs() };
  }
}

const VARIABLES = [
  'log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'server_id', 'server_uuid', 'gtid_mode', 'gtid_strict_mode',
  'enforce_gtid_consistency', 'expire_logs_days', 'binlog_expire_logs_seconds', 'sql_mode', 'lower_case_table_names', 'max_allowed_packet',
  'read_only', 'super_read_only', 'innodb_read_only', 'innodb_strict_mode', 'transaction_isolation', 'tx_isolation', 'log_slave_updates',
  'log_replica_updates', 'explicit_defaults_for_timestamp', 'default_storage_engine', 'time_zone', 'system_time_zone', 'character_set_server',
  'collation_server', 'version_comment', 'require_secure_transport', 'have_ssl', 'binlog_checksum', 'version',
];

/** Split `10.11.19-MariaDB-0+deb12u1` into [10, 11]. */
export function versionParts(version: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

async function readServerInfo(client: MySqlClient): Promise<ServerInfo> {
  const rows = await client.rows<{ Variable_name: string; Value: string | null }>(
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${VARIABLES.map(() => '?').join(', ')})`,
    VARIABLES,
  );
  const variables: Record<string, string> = {};
  for (const r of rows) variables[r.Variable_name] = r.Value ?? '';
  const version = variables.version ?? '';
  const [major, minor] = versionParts(version);
  return {
    kind: 'mysql',
    version,
    versionNumber: Number(`${major}.${minor}`),
    flavor: /mariadb/i.test(`${version} ${variables.version_comment ?? ''}`) ? 'mariadb' : 'mysql',
    timeZone: variables.time_zone === 'SYSTEM' ? variables.system_time_zone || 'SYSTEM' : variables.time_zone || 'SYSTEM',
    charset: variables.character_set_server ?? '',
    collation: variables.collation_server,
    variables,
  };
}

/**
 * The binlog position now: file/pos, plus the GTID state (MariaDB @@gtid_binlog_pos, MySQL
 * Executed_Gtid_Set). MySQL 8.2+ renamed SHOW MASTER STATUS to SHOW BINARY LOG STATUS.
 */
export async function currentPosition(client: MySqlClient): Promise<CdcPosition> {
  const info = await client.serverInfo();
  const [major, minor] = versionParts(info.version);
  const renamed = info.flavor === 'mysql' && (major > 8 || (major === 8 && minor >= 2));
  const status = await client.rows<Record<string, unknown>>(renamed ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
  const row = status[0];
  if (!row || !row.File) {
    throw new FatalEngineError('Binary logging is off on the source (log_bin=OFF), so there is no binlog position to start incremental sync from. Enable log_bin and restart the server.');
  }
  const [ids] = await client.arrays(info.flavor === 'mariadb' ? 'SELECT @@server_id, @@gtid_binlog_pos' : 'SELECT @@server_id, NULL').then((r) => r.rows);
  const gtid = info.flavor === 'mariadb' ? (ids![1] as string | null) : ((row.Executed_Gtid_Set as string | undefined) ?? null);
  return {
    kind: 'mysql',
    file: String(row.File),
    pos: Number(row.Position),
    ...(gtid ? { gtid: gtid.replace(/\s+/g, '') } : {}),
    serverId: Number(ids![0]),
  };
}
