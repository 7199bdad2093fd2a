/**
 * Invoke a function's handler module in-process, as Lambda would: the same module, an event,
 * a context. Modules are imported once (a warm container per function).
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { FunctionDef } from './routes.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const loaded = new Map<string, Promise<Handler>>();

export function lambdaContext(functionName: string, timeoutMs = 900_000) {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: randomUUID(),
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function loadHandler(def: FunctionDef): Promise<Handler> {
  let p = loaded.get(def.name);
  if (!p) {
    p = import(pathToFileURL(def.modulePath).href).then((m) => {
      const h = m[def.exportName];
      if (typeof h !== 'function') throw new Error(`${def.modulePath} exports no function ${def.exportName}`);
      return h as Handler;
    });
    loaded.set(def.name, p);
    p.catch(() => loaded.delete(def.name));
  }
  return p;
}

export async function invoke(def: FunctionDef, event: unknown, timeoutMs?: number): Promise<unknown> {
  const handler = await loadHandler(def);
  return handler(event, lambdaContext(def.name, timeoutMs));
}
