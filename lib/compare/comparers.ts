/**
 * Open the Comparer of an endpoint: the engine itself (MySqlEngine and PostgresEngine implement
 * Comparer over their digest.ts), with connections of its own, so a compare never shares the
 * copy path's state.
 */
import type { Comparer, EndpointConfig } from '../engines/engine.js';
import { openEngine } from '../engines/index.js';

export type OpenComparer = (cfg: EndpointConfig) => Comparer;

const isComparer = (e: object): e is Comparer => typeof (e as Partial<Comparer>).digestRange === 'function' && typeof (e as Partial<Comparer>).describeObjects === 'function';

export const openComparer: OpenComparer = (cfg) => {
  const engine = openEngine(cfg);
  if (!isComparer(engine)) throw new Error(`The ${cfg.kind} engine cannot compare`);
  return engine;
};
