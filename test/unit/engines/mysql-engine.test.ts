import { describe, expect, it } from 'vitest';
import type { ServerInfo } from '../../../lib/engines/engine.js';
import { FatalEngineError, RetryableError } from '../../../lib/engines/engine.js';
import { keyPredicate } from '../../../lib/engines/mysql/chunks.js';
import { qid, toDriverValue, toJsonValue } from '../../../lib/engines/mysql/connection.js';
import { ConnectTimeoutError, classifyMySqlError, describeConnectFailure } from '../../../lib/engines/mysql/errors.js';
import { PRECHECKS, evaluateBinlog, evaluateVersion, grantPatternMatches } from '../../../lib/engines/mysql/precheck.js';
import { splitCreateTable } from '../../../lib/engines/mysql/schema.js';

const info = (version: string, flavor: 'mysql' | 'mariadb'): ServerInfo => ({ kind: 'mysql', version, versionNumber: 0, flavor, timeZone: 'UTC', charset: 'utf8mb4', variables: {} });
const where = { host: 'db.example', port: 3306, user: 'app', database: 'shop', ssl: false, password: 'Secret-Pw-1' };

describe('MySQL precheck evaluators', () => {
  it('fails server_id 0 and passes 1 or more', () => {
    const base = { log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL', binlog_expire_logs_seconds: '0', expire_logs_days: '0' };
    expect(evaluateBinlog({ ...base, server_id: '0' }).find((r) => r.item === 'srcDbServerIdCheck')).toMatchObject({ result: 'failed' });
    expect(evaluateBinlog({ ...base, server_id: '1' }).every((r) => r.result === 'passed')).toBe(true);
  });

  it('raises an alarm when binlogs are kept less than a day, by seconds or by days', () => {
    const base = { log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL', server_id: '1' };
    const pick = (v: Record<string, string>) => evaluateBinlog({ ...base, ...v }).find((r) => r.item === 'srcDbBinlogExpireLogsDays')!.result;
    expect(pick({ binlog_expire_logs_seconds: '3600' })).toBe('alarm');
    expect(pick({ expire_logs_days: '0.5' })).toBe('alarm');
    expect(pick({ expire_logs_days: '7' })).toBe('passed');
    expect(pick({ binlog_expire_logs_seconds: '0', expire_logs_days: '0' })).toBe('passed');
  });

  it('supports MySQL 5.7+ and MariaDB 10.2+ only', () => {
    expect(evaluateVersion(info('5.6.51', 'mysql'), 'srcDbVersionSupport').result).toBe('failed');
    expect(evaluateVersion(info('5.7.44-log', 'mysql'), 'srcDbVersionSupport').result).toBe('passed');
    expect(evaluateVersion(info('8.4.3', 'mysql'), 'dstDbVersionSupport').result).toBe('passed');
    expect(evaluateVersion(info('10.1.48-MariaDB', 'mariadb'), 'srcDbVersionSupport').result).toBe('failed');
    expect(evaluateVersion(info('10.11.19-MariaDB', 'mariadb'), 'srcDbVersionSupport').result).toBe('passed');
    expect(evaluateVersion(info('11.4.2-MariaDB', 'mariadb'), 'srcDbVersionSupport').result).toBe('passed');
  });

  it('matches database-level grant patterns the way MySQL does', () => {
    expect(grantPatternMatches('shop%', 'shop_eu')).toBe(true);
    expect(grantPatternMatches('shop\\_eu', 'shop_eu')).toBe(true);
    expect(grantPatternMatches('shop\\_eu', 'shopXeu')).toBe(false);
    expect(grantPatternMatches('shop_eu', 'shopXeu')).toBe(true);
    expect(grantPatternMatches('a.b', 'aXb')).toBe(false);
  });

  it('has one catalogue entry per item, each with a group', () => {
    expect(new Set(PRECHECKS.map((p) => p.item)).size).toBe(PRECHECKS.length);
    expect(PRECHECKS.every((p) => /^[a-z_]+$/.test(p.group))).toBe(true);
  });
});

describe('MySQL errors', () => {
  it('classifies deadlocks, lock wait timeouts, lost connections and too many connections as retryable, keeping the cause', () => {
    for (const [code, errno] of [['ER_LOCK_DEADLOCK', 1213], ['ER_LOCK_WAIT_TIMEOUT', 1205], ['ER_CON_COUNT_ERROR', 1040], ['PROTOCOL_CONNECTION_LOST', undefined], ['ECONNRESET', undefined]] as const) {
      const e = Object.assign(new Error(`boom ${code}`), { code, errno });
      const c = classifyMySqlError(e);
      expect(c, code).toBeInstanceOf(RetryableError);
      expect((c as Error).cause).toBe(e);
    }
  });

  it('classifies other server errors as fatal and leaves programming errors alone', () => {
    expect(classifyMySqlError(Object.assign(new Error('dup'), { code: 'ER_DUP_ENTRY', errno: 1062, sqlState: '23000' }))).toBeInstanceOf(FatalEngineError);
    const bug = new TypeError('x is undefined');
    expect(classifyMySqlError(bug)).toBe(bug);
  });

  it('never lets the password through a message', () => {
    const e = Object.assign(new Error("Access denied for 'Secret-Pw-1'"), { code: 'ER_ACCESS_DENIED_ERROR', errno: 1045, sqlState: '28000' });
    expect((classifyMySqlError(e, 'Secret-Pw-1') as Error).message).not.toContain('Secret-Pw-1');
    expect(describeConnectFailure(e, where).message).not.toContain('Secret-Pw-1');
  });

  it('maps connection failures to the seed codes', () => {
    const err = (code: string, errno?: number) => Object.assign(new Error(code), { code, errno });
    expect(describeConnectFailure(err('EHOSTUNREACH'), where).code).toBe('DRS.KE0001');
    expect(describeConnectFailure(err('ENETUNREACH'), where).code).toBe('DRS.KE0001');
    expect(describeConnectFailure(new ConnectTimeoutError(10_000), where)).toMatchObject({ code: 'DRS.KE0001', message: expect.stringContaining('timed out') });
    expect(describeConnectFailure(err('EAI_AGAIN'), where).code).toBe('DRS.KE0018');
    expect(describeConnectFailure(err('ECONNREFUSED'), where).code).toBe('DRS.KE0003');
    expect(describeConnectFailure(err('ER_SECURE_TRANSPORT_REQUIRED', 3159), where).code).toBe('DRS.KE0010');
    expect(describeConnectFailure(err('CERT_HAS_EXPIRED'), where).code).toBe('DRS.KE0022');
    expect(describeConnectFailure(err('ER_MUST_CHANGE_PASSWORD_LOGIN', 1862), where).code).toBe('DRS.KE0055');
    expect(describeConnectFailure(err('ER_HOST_NOT_PRIVILEGED', 1130), where).code).toBe('DRS.KE0005');
  });
});

describe('MySQL SQL building', () => {
  it('quotes identifiers with backticks doubled', () => {
    expect(qid('a`b; --')).toBe('`a``b; --`');
    expect(() => qid('')).toThrow(FatalEngineError);
  });

  it('spells a keyset comparison out as ORs on the key prefix', () => {
    expect(keyPredicate(['a', 'b', 'c'], [1, 'x', 2], '>')).toEqual({
      sql: '(`a` > ? OR (`a` = ? AND `b` > ?) OR (`a` = ? AND `b` = ? AND `c` > ?))',
      values: [1, 1, 'x', 1, 'x', 2],
    });
    expect(keyPredicate(['a', 'b'], [1, 2], '<=')).toEqual({ sql: '(`a` < ? OR (`a` = ? AND `b` <= ?))', values: [1, 1, 2] });
    expect(keyPredicate(['id'], [5], '>')).toEqual({ sql: '`id` > ?', values: [5] });
  });

  it('keeps binary key values binary across a JSON round trip', () => {
    const b = Buffer.from([0, 255, 39]);
    const back = toDriverValue(JSON.parse(JSON.stringify(toJsonValue(b))));
    expect(Buffer.isBuffer(back) && back.equals(b)).toBe(true);
  });

  it('takes SHOW CREATE TABLE apart into columns, keys, indexes and foreign keys', () => {
    const ddl = [
      'CREATE TABLE `t``x` (',
      '  `id` int(11) NOT NULL,',
      "  `p` int(11) DEFAULT NULL COMMENT 'a,\\nb',",
      '  PRIMARY KEY (`id`),',
      '  UNIQUE KEY `u` (`p`),',
      '  KEY `k` (`p`),',
      '  CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `other` (`id`),',
      '  CONSTRAINT `c` CHECK (`p` > 0)',
      ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
    ].join('\n');
    const { parts, tail } = splitCreateTable(ddl, 't`x');
    expect(parts.map((p) => [p.kind, p.name])).toEqual([
      ['column', 'id'], ['column', 'p'], ['primary', 'PRIMARY'], ['unique', 'u'], ['index', 'k'], ['foreign', 'fk'], ['other', 'c'],
    ]);
    expect(tail).toBe(') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4');
  });
});
