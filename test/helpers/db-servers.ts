/**
 * Throwaway database servers for integration tests: MariaDB with the binlog settings CDC needs
 * and PostgreSQL with wal_level=logical, each from an empty data directory on a free port, torn
 * down by `stop()`. With CI=true a missing server binary fails the run instead of skipping.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface DbServer {
  kind: 'mysql' | 'postgresql';
  host: string;
  port: number;
  /** Superuser with no password. */
  user: string;
  password: string;
  dataDir: string;
  /** ms from empty directory to accepting connections. */
  startMs: number;
  stop(): Promise<void>;
  /** Shut the server down, keeping its data (an outage). */
  halt(): Promise<void>;
  /** Start it again after `halt`, same port and data. */
  resume(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function which(bin: string, dirs: string[] = []): string | undefined {
  for (const d of [...dirs, ...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
    const p = path.join(d, bin);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function pgBinDir(): string | undefined {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return undefined;
    const versions = execFileSync('ls', [base], { encoding: 'utf8' }).trim().split('\n').sort((a, b) => Number(b) - Number(a));
    return versions[0] ? path.join(base, versions[0], 'bin') : undefined;
  }
}

export function mariadbAvailable(): boolean {
  return !!which('mariadbd') && !!which('mariadb-install-db');
}
export function postgresAvailable(): boolean {
  const bin = pgBinDir();
  return !!bin && existsSync(path.join(bin, 'initdb'));
}

/** In CI a missing binary is an error; locally the suite may skip. */
export function requireBinaries(kind: 'mysql' | 'postgresql'): boolean {
  const ok = kind === 'mysql' ? mariadbAvailable() : postgresAvailable();
  if (!ok && process.env.CI === 'true') throw new Error(`CI=true but the ${kind === 'mysql' ? 'MariaDB' : 'PostgreSQL'} server binaries are not installed`);
  return ok;
}

async function waitFor(check: () => boolean, what: string, proc: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with code ${proc.exitCode} before becoming ready`);
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms`);
}

function canQuery(args: string[], bin: string, env?: NodeJS.ProcessEnv): boolean {
  try {
    execFileSync(bin, args, { stdio: 'ignore', env: env ?? process.env, timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export interface MariaDbOptions {
  /** Extra mariadbd flags, e.g. ['--skip-log-bin'] to make a precheck fail for real. */
  extraArgs?: string[];
  /** Replace the default binlog flags entirely. */
  binlog?: boolean;
  serverId?: number;
}

export async function startMariaDb(opts: MariaDbOptions = {}): Promise<DbServer> {
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drs-mariadb-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const install = () => execFileSync(which('mariadb-install-db')!, ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'pipe' });
  try {
    install();
  } catch (e) {
    // Seen once under heavy load: retry from an empty directory before giving up, with its output.
    rmSync(data, { recursive: true, force: true });
    try {
      install();
    } catch (e2) {
      throw new Error(`mariadb-install-db failed twice: ${String((e2 as { stderr?: Buffer }).stderr ?? e2)} (first: ${String((e as { stderr?: Buffer }).stderr ?? e)})`);
    }
  }
  const binlog = opts.binlog === false ? ['--skip-log-bin'] : [`--log-bin=${path.join(data, 'binlog')}`, '--binlog-format=ROW', '--binlog-row-image=FULL'];
  const args = [
    '--no-defaults', `--datadir=${data}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${path.join(dir, 'mysqld.sock')}`,
    `--pid-file=${path.join(dir, 'mysqld.pid')}`, `--server-id=${opts.serverId ?? 1}`, ...binlog, '--user=root',
    '--innodb-buffer-pool-size=256M', '--innodb-flush-log-at-trx-commit=2', '--sync-binlog=0', '--skip-name-resolve',
    '--character-set-server=utf8mb4', '--collation-server=utf8mb4_general_ci', '--max-connections=500', `--log-error=${path.join(dir, 'error.log')}`,
    ...(opts.extraArgs ?? []),
  ];
  const client = which('mariadb') ?? which('mysql')!;
  let proc: ChildProcess;
  const boot = async () => {
    proc = spawn(which('mariadbd')!, args, { stdio: 'ignore', detached: false });
    await waitFor(() => canQuery(['--no-defaults', '-uroot', '-h127.0.0.1', `-P${port}`, '-e', 'select 1'], client), 'mariadbd', proc);
  };
  const halt = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  };
  await boot();
  return {
    kind: 'mysql', host: '127.0.0.1', port, user: 'root', password: '', dataDir: dir, startMs: Math.round(performance.now() - t0),
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    halt,
    resume: boot,
  };
}

export interface PostgresOptions {
  /** Server settings, e.g. { wal_level: 'replica' } to make a precheck fail for real. */
  settings?: Record<string, string>;
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<DbServer> {
  const t0 = performance.now();
  const bin = pgBinDir()!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drs-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (exe: string, args: string[]) =>
    asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, exe), ...args], { stdio: 'ignore' }) : execFileSync(path.join(bin, exe), args, { stdio: 'ignore' });
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  const settings: Record<string, string> = {
    port: String(port), listen_addresses: '127.0.0.1', unix_socket_directories: dir, wal_level: 'logical', max_wal_senders: '20',
    max_replication_slots: '20', fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300', ...(opts.settings ?? {}),
  };
  const o = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  const boot = async () => {
    run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', o, 'start']);
  };
  const halt = async () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    } catch {
      /* already stopped */
    }
  };
  await boot();
  return {
    kind: 'postgresql', host: '127.0.0.1', port, user: 'postgres', password: '', dataDir: dir, startMs: Math.round(performance.now() - t0),
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
    halt,
    resume: boot,
  };
}
