/**
 * The embedded DynamoDB-compatible store: dynalite, in-process, kept on disk under the data
 * directory (or in memory for tests). It speaks the DynamoDB wire protocol on a loopback port,
 * so the application reaches it through the same AWS SDK client it uses on AWS.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(dir?: string): Promise<EmbeddedDynamo> {
  const dynalite = require('dynalite') as (opts: Record<string, unknown>) => Server;
  if (dir) mkdirSync(dir, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dir ? { path: dir } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
