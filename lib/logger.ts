/**
 * Structured JSON logs on stdout (CloudWatch on AWS). Every value passes through `redact`, so a
 * password or key that reaches a log call by mistake is masked, never written.
 */
import { config } from './config.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

const SECRET_KEY = /pass(word)?|pwd|secret|ssl_cert_key|ssl_cert_password|private_?key|authorization|token|\bsk\b/i;

/** Deep copy with secret-looking keys masked. Errors become plain objects (message, name, code). */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    return { name: e.name, message: scrubText(e.message), code: typeof e.code === 'string' ? e.code : undefined };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '***' : redact(v, depth + 1);
    return out;
  }
  if (typeof value === 'string') return scrubText(value);
  return value;
}

const registered = new Set<string>();

/** Remember a secret so that it is masked wherever it later appears inside a string. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 4) registered.add(secret);
}

function scrubText(s: string): string {
  let out = s;
  for (const secret of registered) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}

type Sink = (line: string) => void;
let sink: Sink = (line) => process.stdout.write(line + '\n');

/** Tests capture every log line through this. */
export function setLogSink(next: Sink): Sink {
  const prev = sink;
  sink = next;
  return prev;
}

function write(level: Level, message: string, fields?: Record<string, unknown>): void {
  if (order[level] < order[config().LOG_LEVEL]) return;
  const entry = { level, time: new Date().toISOString(), message: scrubText(message), ...(redact(fields ?? {}) as object) };
  sink(JSON.stringify(entry));
}

export const logger = {
  debug: (m: string, f?: Record<string, unknown>) => write('debug', m, f),
  info: (m: string, f?: Record<string, unknown>) => write('info', m, f),
  warn: (m: string, f?: Record<string, unknown>) => write('warn', m, f),
  error: (m: string, f?: Record<string, unknown>) => write('error', m, f),
};
