/**
 * The workflow port: start an execution of the migration state machine for one job (or, for mode
 * `compare`, of the compare state machine for one compare task: runId is the task id). AWS: Step
 * Functions (StartExecution). Local runtime: the same ASL run in-process. Commands call this
 * only after the job record says what the execution must do, so a lost start is recoverable.
 */
import { config } from '../config.js';

export type WorkflowMode = 'create' | 'network' | 'precheck' | 'run' | 'release' | 'compare';

export interface WorkflowInput {
  mode: WorkflowMode;
  projectId: string;
  jobId: string;
  /** Run generation (mode run/release) or query id (network/precheck). */
  runId: string;
  /** CDC loop iteration count within this execution (continue-as-new after a bound). */
  iteration?: number;
  /** How many times this run continued as a new execution (names each execution uniquely). */
  segment?: number;
}

export interface Workflow {
  /** Start an execution; returns its id. Idempotent for the same mode + runId. */
  start(input: WorkflowInput): Promise<string>;
}

/** Unique per job, mode, run and segment; at most 80 characters of [A-Za-z0-9_-]. */
export function executionName(input: WorkflowInput): string {
  const seg = input.segment ? `-s${input.segment}` : '';
  return `${input.jobId.slice(0, 36)}-${input.mode.slice(0, 2)}-${input.runId.slice(0, 36 - seg.length)}${seg}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

/** The execution input: every field the state machine reads is present. */
export const executionInput = (input: WorkflowInput) => ({ ...input, iteration: input.iteration ?? 0, segment: input.segment ?? 0 });

let shared: Workflow | undefined;

export async function workflow(): Promise<Workflow> {
  if (!shared) {
    const c = config();
    if (c.DRS_RUNTIME === 'local') {
      const { localWorkflow } = await import('../local/step-functions.js');
      shared = localWorkflow();
    } else {
      const { SfnWorkflow } = await import('./sfn-workflow.js');
      if (!c.STATE_MACHINE_ARN) throw new Error('STATE_MACHINE_ARN is not set');
      shared = new SfnWorkflow(c.STATE_MACHINE_ARN, c.AWS_REGION, c.COMPARE_STATE_MACHINE_ARN);
    }
  }
  return shared;
}

export function setWorkflow(w: Workflow | undefined): void {
  shared = w;
}
