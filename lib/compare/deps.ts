/** The real adapters behind compare commands, queries and steps, built once per container. */
import { jobDeps } from '../job/deps.js';
import type { JobDeps } from '../job/commands.js';
import { compareStore, type CompareStore } from '../store/compare-store.js';

export type CompareJobDeps = JobDeps & { compares: CompareStore };

export function compareDeps(): CompareJobDeps {
  return { ...jobDeps(), compares: compareStore() };
}
