/**
 * The TypeScript of the whole project (functions, lib, tests, benches, scripts) type-checks under
 * tsconfig.json (strict, no unused locals). vitest only strips types, so without this a type error
 * would reach main unnoticed.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

it('tsc --noEmit reports no error', async () => {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const out = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', path.join(ROOT, 'tsconfig.json')], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }).then(
    () => '',
    (e: { stdout?: string; message: string }) => e.stdout || e.message,
  );
  expect(out).toBe('');
}, 120_000);
