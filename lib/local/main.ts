/**
 * `npm start`: the embedded local runtime. One process serves every httpApi route declared in
 * serverless.yml with the same handler modules Lambda runs, on an embedded DynamoDB-compatible
 * store kept under DRS_DATA_DIR.
 */
import '../polyfills.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jobDeps } from '../job/deps.js';
import { recoverInterrupted, startSchedules } from './background.js';
import { bootstrapLocal } from './bootstrap.js';
import { serverPort, startHttpServer } from './http-server.js';
import { routes } from './routes.js';

const started = performance.now();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

const env = await bootstrapLocal({ dataDir: process.env.DRS_DATA_DIR ?? path.join(root, '.data') });
const table = routes(root);
const server = await startHttpServer(table, port, host);
const stopSchedules = startSchedules(root);
const recovered = await recoverInterrupted(jobDeps());

const c = env.credential;
process.stdout.write(
  [
    `DRS replication service (local runtime) listening on http://${host}:${serverPort(server)}`,
    `  routes: ${table.length} from serverless.yml; data: ${env.dataDir}`,
    `  project id: ${c.projectIds[0]}`,
    `  access key (DRS_AK): ${c.accessKey}`,
    env.generated ? `  secret key (DRS_SK): ${c.secretKey}   (generated once, kept in ${path.join(env.dataDir ?? '', 'credentials.json')})` : '  secret key: from DRS_SK',
    recovered ? `  resumed ${recovered} interrupted job(s) from their checkpoints` : '',
    `ready in ${Math.round(performance.now() - started)} ms`,
    '',
  ].join('\n'),
);

const shutdown = async () => {
  stopSchedules();
  server.close();
  await env.dynamo.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
