import { startDueCompares } from '../../lib/compare/commands.js';
import { compareDeps } from '../../lib/compare/deps.js';
import { logger } from '../../lib/logger.js';

/** Scheduled: every open compare policy whose time has come starts its compares (health compare, seed 7.7). */
export const makeHandler = (deps = compareDeps) => async (): Promise<{ started: string[] }> => {
  const started = await startDueCompares(deps());
  if (started.length) logger.info('periodic compares started', { started });
  return { started };
};

export const handler = makeHandler();
