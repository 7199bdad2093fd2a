import { describe, expect, it } from 'vitest';
import type { ServerInfo } from '../../../lib/engines/engine.js';
import { FatalEngineError, RetryableError } from '../../../lib/engines/engine.js';
import { keyPredicate } from '../../../lib/engines/postgres/chunks.js';
import { lit, qid, qtable, versionNumber } from '../../../lib/engines/postgres/connection.js';
import { ConnectTimeoutError, classifyPostgresError, describeConnectFailure } from '../../../lib/engines/postgres/errors.js';
import { PRECHECKS, evaluateReplication, evaluateVersion } from '../../../lib/engines/postgres/precheck.js';
import { copyText } from '../../../lib/engines/postgres/rows.js';

const info = (num: number): ServerInfo => ({ kind: 'postgresql', version: String(num), versionNumber: versionNumber(num), flavor: 'postgresql', timeZone: 'UTC', charset: 'UTF8', variables: {} });
const where = { host: 'db.example', port: 5432, user: 'app', database: 'shop', ssl: false, password: 'Secret-Pw-1' };

describe('PostgreSQL precheck evaluators', () => {
  it('supports PostgreSQL 12 and later only', () => {
    expect(evaluateVersion(info(90624), 'srcDbVersionSupport').result).toBe('failed');
    expect(evaluateVersion(info(110022), 'srcDbVersionSupport').result).toBe('failed');
    expect(evaluateVersion(info(120001), 'dstDbVersionSupport').result).toBe('passed');
    expect(evaluateVersion(info(170002), 'srcDbVersionSupport').result).toBe('passed');
  });

  it('counts free replication slots and WAL senders', () => {
    const v = { wal_level: 'logical', max_replication_slots: '4', max_wal_senders: '4' };
    expect(evaluateReplication(v, { slots: 3, senders: 3 }).every((r) => r.result === 'passed')).toBe(true);
    expect(evaluateReplication(v, { slots: 4, senders: 0 }).find((r) => r.item === 'srcReplicationSlotCheck')!.result).toBe('failed');
    expect(evaluateReplication(v, { slots: 0, senders: 4 }).find((r) => r.item === 'srcWalSenderCheck')!.result).toBe('failed');
    expect(evaluateReplication({ ...v, wal_level: 'replica' }, { slots: 0, senders: 0 })[0]!.result).toBe('failed');
  });

  it('has one catalogue entry per item', () => {
    expect(new Set(PRECHECKS.map((p) => p.item)).size).toBe(PRECHECKS.length);
  });
});

describe('PostgreSQL errors', () => {
  it('classifies serialization failures, deadlocks, shutdowns, connection exceptions and too many connections as retryable', () => {
    for (const code of ['40001', '40P01', '57P01', '57P03', '08006', '08001', '53300', 'ECONNRESET']) {
      const e = Object.assign(new Error(code), { code });
      const c = classifyPostgresError(e);
      expect(c, code).toBeInstanceOf(RetryableError);
      expect((c as Error).cause).toBe(e);
    }
    expect(classifyPostgresError(new Error('Connection terminated unexpectedly'))).toBeInstanceOf(RetryableError);
  });

  it('classifies other server errors as fatal and leaves programming errors alone', () => {
    expect(classifyPostgresError(Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' }))).toBeInstanceOf(FatalEngineError);
    const bug = new TypeError('x is undefined');
    expect(classifyPostgresError(bug)).toBe(bug);
  });

  it('maps connection failures to the seed codes without the password', () => {
    const err = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(describeConnectFailure(err('EHOSTUNREACH'), where).code).toBe('DRS.KE0001');
    expect(describeConnectFailure(new ConnectTimeoutError(10_000), where)).toMatchObject({ code: 'DRS.KE0001', message: expect.stringContaining('timed out') });
    expect(describeConnectFailure(err('ENOTFOUND'), where).code).toBe('DRS.KE0018');
    expect(describeConnectFailure(err('ECONNREFUSED'), where).code).toBe('DRS.KE0003');
    expect(describeConnectFailure(err('28P01', 'password authentication failed for user "app"'), where).code).toBe('DRS.KE0002');
    expect(describeConnectFailure(err('3D000'), where).code).toBe('DRS.KE0008');
    expect(describeConnectFailure(err('42501'), where).code).toBe('DRS.KE0012');
    expect(describeConnectFailure(err('53300'), where).code).toBe('DRS.KE0048');
    const leak = describeConnectFailure(err('XX000', 'odd failure Secret-Pw-1'), where);
    expect(leak.message).not.toContain('Secret-Pw-1');
  });
});

describe('PostgreSQL SQL building', () => {
  it('quotes identifiers and literals', () => {
    expect(qid('a"b; --')).toBe('"a""b; --"');
    expect(qtable({ db: 'd', table: 'T' })).toBe('"public"."T"');
    expect(lit("it's \\ ok")).toBe("'it''s \\ ok'");
  });

  it('compares keys as rows with numbered parameters', () => {
    expect(keyPredicate(['a', 'b'], ['1', 'x'], '>', 3)).toEqual({ sql: '("a", "b") > ($3, $4)', values: ['1', 'x'] });
  });

  it('escapes COPY text: NULL, backslash, tab, newline, carriage return, bytes', () => {
    expect(copyText(null)).toBe('\\N');
    expect(copyText('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyText('\\N')).toBe('\\\\N');
    expect(copyText(Buffer.from([0xde, 0xad]))).toBe('\\\\xdead');
    expect(copyText(true)).toBe('t');
  });

  it('reads server_version_num as major (10+) or major.minor (9.x)', () => {
    expect(versionNumber(150020)).toBe(15);
    expect(versionNumber(90624)).toBe(9.6);
  });
});
