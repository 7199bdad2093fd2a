/**
 * Environment, parsed once per process. The only place that reads `process.env` (besides the
 * local runtime's bootstrap, which sets these variables before anything else runs).
 */
import { z } from 'zod';

const Env = z.object({
  /** The single DynamoDB table. */
  DRS_TABLE: z.string().min(1).default('drs'),
  /** Set locally (dynalite); empty on AWS. */
  DYNAMODB_ENDPOINT: z.string().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  /** KMS key that encrypts database passwords on AWS. */
  KMS_KEY_ID: z.string().optional(),
  /** Base64 AES-256 key that encrypts database passwords in the local runtime. */
  DRS_SECRET_KEY: z.string().optional(),
  /** The migration state machine (AWS). Locally the workflow adapter runs the ASL in-process. */
  STATE_MACHINE_ARN: z.string().optional(),
  COMPARE_STATE_MACHINE_ARN: z.string().optional(),
  /** `local` when the embedded runtime hosts the handlers. */
  DRS_RUNTIME: z.enum(['aws', 'local']).default('aws'),
  DRS_DATA_DIR: z.string().default('.data'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Largest request body the edge accepts. */
  DRS_MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
});
export type Config = z.infer<typeof Env>;

let cached: Config | undefined;

export function config(): Config {
  cached ??= Env.parse(process.env);
  return cached;
}

/** Tests and the local runtime change the environment, then call this. */
export function resetConfig(): void {
  cached = undefined;
}
