/**
 * The engine registry: open an engine for an endpoint, run with a source and a target and always
 * close both, and classify an engine error as retryable or fatal.
 *
 * Adding an engine: implement SourceEngine and TargetEngine in a folder with the same file names
 * as mysql/ and postgres/, add a case to openEngine and classifyError, and a
 * test/it/<engine>.it.test.ts that runs test/it/engine.contract.ts.
 */
import type { EndpointConfig, EngineKind, SourceEngine, TargetEngine } from './engine.js';
import { classifyMySqlError } from './mysql/errors.js';
import { MySqlEngine } from './mysql/index.js';
import { classifyPostgresError } from './postgres/errors.js';
import { PostgresEngine } from './postgres/index.js';

function assertNever(x: never): never {
  throw new Error(`Unknown engine kind ${JSON.stringify(x)}`);
}

/** A new engine for `cfg`; nothing connects until the first call. */
export function openEngine(cfg: EndpointConfig): SourceEngine & TargetEngine {
  const kind = cfg.kind;
  switch (kind) {
    case 'mysql':
      return new MySqlEngine(cfg);
    case 'postgresql':
      return new PostgresEngine(cfg);
    default:
      return assertNever(kind);
  }
}

/** Open a source and a target, run, and close both whatever happens. */
export async function withEngines<T>(source: EndpointConfig, target: EndpointConfig, run: (source: SourceEngine, target: TargetEngine) => Promise<T>): Promise<T> {
  const s = openEngine(source);
  const t = openEngine(target);
  try {
    return await run(s, t);
  } finally {
    await Promise.allSettled([s.close(), t.close()]);
  }
}

/** RetryableError for transient failures, FatalEngineError for other database errors, anything else unchanged. */
export function classifyError(kind: EngineKind, e: unknown): unknown {
  switch (kind) {
    case 'mysql':
      return classifyMySqlError(e);
    case 'postgresql':
      return classifyPostgresError(e);
    default:
      return assertNever(kind);
  }
}
