/** `npm start` as a child process: the real local runtime, on a free port and a temp data dir. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './db-servers.js';
import { ROOT } from './local.js';

export interface RuntimeProcess {
  url: string;
  port: number;
  dataDir: string;
  output: () => string;
  readyMs: number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startRuntime(opts: { dataDir?: string; env?: Record<string, string>; port?: number } = {}): Promise<RuntimeProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'drs-data-'));
  const port = opts.port ?? (await freePort());
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, ['--disable-warning=NodeVersionSupportWarning', '--import', 'tsx', 'lib/local/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DRS_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runtime not ready in 60 s:\n${out}`)), 60_000);
    const check = () => {
      if (/ready in \d+ ms/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code}:\n${out}`));
    });
  });
  const readyMs = Math.round(performance.now() - t0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    readyMs,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) {
        child.kill(signal);
        await new Promise((r) => child.once('exit', r));
      }
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
