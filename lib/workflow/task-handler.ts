/**
 * The wrapper for every state machine Task function: parse the input with zod, run one step,
 * return plain JSON. Errors keep their `name` so the ASL's Retry/Catch can match them.
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { logger } from '../logger.js';

export function taskHandler<S extends z.ZodType, R>(schema: S, run: (input: z.infer<S>, ctx: { remainingMs: () => number }) => Promise<R>) {
  return async (event: unknown, context?: Context): Promise<R> => {
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      const e = new Error(`Invalid task input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      e.name = 'InvalidTaskInputError';
      throw e;
    }
    const remainingMs = () => (context?.getRemainingTimeInMillis ? context.getRemainingTimeInMillis() : 600_000);
    try {
      return await run(parsed.data, { remainingMs });
    } catch (error) {
      logger.warn('task failed', { function: context?.functionName, error });
      throw error;
    }
  };
}

/** The input every migration task receives (the state machine passes it through). */
export const TaskInput = z.object({
  mode: z.enum(['create', 'network', 'precheck', 'run', 'release']),
  projectId: z.string().min(1),
  jobId: z.string().min(1),
  runId: z.string().min(1),
  iteration: z.number().int().optional(),
  segment: z.number().int().optional(),
});
export type TaskInput = z.infer<typeof TaskInput>;
