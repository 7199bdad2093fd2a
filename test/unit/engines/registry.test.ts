import { describe, expect, it } from 'vitest';
import type { EndpointConfig } from '../../../lib/engines/engine.js';
import { RetryableError } from '../../../lib/engines/engine.js';
import { classifyError, openEngine, withEngines } from '../../../lib/engines/index.js';
import { MySqlEngine } from '../../../lib/engines/mysql/index.js';
import { PostgresEngine } from '../../../lib/engines/postgres/index.js';

const mysql: EndpointConfig = { kind: 'mysql', host: '127.0.0.1', port: 1, user: 'u', password: 'p' };
const postgres: EndpointConfig = { kind: 'postgresql', host: '127.0.0.1', port: 1, user: 'u', password: 'p' };

describe('engine registry', () => {
  it('opens the engine of the endpoint kind without connecting', async () => {
    // Act
    const m = openEngine(mysql);
    const p = openEngine(postgres);

    // Assess
    expect(m).toBeInstanceOf(MySqlEngine);
    expect(m.kind).toBe('mysql');
    expect(p).toBeInstanceOf(PostgresEngine);
    expect(p.kind).toBe('postgresql');
    await Promise.all([m.close(), p.close()]);
  });

  it('withEngines returns what run returns and closes both engines, also when run throws', async () => {
    const seen: string[] = [];
    expect(await withEngines(mysql, postgres, async (s, t) => `${s.kind}->${t.kind}`)).toBe('mysql->postgresql');
    await expect(
      withEngines(mysql, postgres, async (s, t) => {
        seen.push(s.kind, t.kind);
        throw new Error('step failed');
      }),
    ).rejects.toThrow('step failed');
    expect(seen).toEqual(['mysql', 'postgresql']);
  });

  it('classifyError dispatches on the engine kind', () => {
    expect(classifyError('mysql', Object.assign(new Error('deadlock'), { errno: 1213, code: 'ER_LOCK_DEADLOCK' }))).toBeInstanceOf(RetryableError);
    expect(classifyError('postgresql', Object.assign(new Error('deadlock'), { code: '40P01' }))).toBeInstanceOf(RetryableError);
  });
});
