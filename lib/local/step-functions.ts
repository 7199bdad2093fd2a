/**
 * The local Step Functions executor: runs the same ASL files serverless-step-functions deploys
 * (statemachines/*.asl.yml, referenced from serverless.yml) with aws-local-stepfunctions, and
 * maps every Task state's `Fn::GetAtt: [<function>, Arn]` to that function's handler module, as
 * declared in serverless.yml. Executions run in this process, in the background.
 */
import '../polyfills.js';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateMachine } from 'aws-local-stepfunctions';
import { parse } from 'yaml';
import { logger } from '../logger.js';
import type { Workflow, WorkflowInput } from '../workflow/workflow.js';
import { executionInput, executionName } from '../workflow/workflow.js';
import { invoke } from './lambda.js';
import { functionDefs, readServerlessYml } from './routes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FAKE_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';

type Json = Record<string, unknown>;

/** Replace CloudFormation intrinsics in the ASL with fake ARNs naming the function. */
function resolveIntrinsics(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(resolveIntrinsics);
  if (v && typeof v === 'object') {
    const o = v as Json;
    if ('Fn::GetAtt' in o) return FAKE_ARN + (o['Fn::GetAtt'] as string[])[0];
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolveIntrinsics(x)]));
  }
  return v;
}

/** Every Task state (also inside Map and Parallel) → the function its Resource names. */
function taskFunctions(states: Json, out: Record<string, string> = {}): Record<string, string> {
  for (const [name, s] of Object.entries(states) as [string, Json][]) {
    if (s.Type === 'Task' && typeof s.Resource === 'string' && s.Resource.startsWith(FAKE_ARN)) out[name] = s.Resource.slice(FAKE_ARN.length);
    const processor = (s.ItemProcessor ?? s.Iterator) as Json | undefined;
    if (processor?.States) taskFunctions(processor.States as Json, out);
    for (const b of (s.Branches as Json[] | undefined) ?? []) taskFunctions(b.States as Json, out);
  }
  return out;
}

/** Retry waits: the ASL's real intervals, unless DRS_LOCAL_FAST_RETRY makes them short (tests). */
function retryOverrides(states: Json, fastMs: number | undefined, out: Record<string, number> = {}): Record<string, number> {
  if (fastMs === undefined) return out;
  for (const [name, s] of Object.entries(states) as [string, Json][]) {
    if (s.Retry) out[name] = fastMs;
    const processor = (s.ItemProcessor ?? s.Iterator) as Json | undefined;
    if (processor?.States) retryOverrides(processor.States as Json, fastMs, out);
  }
  return out;
}

function waitOverrides(states: Json, fastMs: number | undefined, out: Record<string, number> = {}): Record<string, number> {
  if (fastMs === undefined) return out;
  for (const [name, s] of Object.entries(states) as [string, Json][]) {
    if (s.Type === 'Wait') out[name] = fastMs;
    const processor = (s.ItemProcessor ?? s.Iterator) as Json | undefined;
    if (processor?.States) waitOverrides(processor.States as Json, fastMs, out);
  }
  return out;
}

export interface LocalExecution {
  id: string;
  input: WorkflowInput;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  result: Promise<unknown>;
  abort(): void;
  error?: string;
}

interface MachineDef {
  name: string;
  definition: Json;
}

/** The state machines declared in serverless.yml (stepFunctions.stateMachines.*.definition: ${file(...)}). */
export function localMachines(root = ROOT): MachineDef[] {
  const sls = readServerlessYml(root) as { stepFunctions?: { stateMachines?: Record<string, { name?: string; definition: unknown }> } };
  return Object.entries(sls.stepFunctions?.stateMachines ?? {}).map(([key, m]) => {
    const ref = typeof m.definition === 'string' ? /^\$\{file\((.+)\)\}$/.exec(m.definition) : null;
    const definition = ref ? (parse(readFileSync(path.join(root, ref[1]), 'utf8')) as Json) : (m.definition as Json);
    return { name: key, definition: resolveIntrinsics(definition) as Json };
  });
}

interface LoadedMachine {
  machine: StateMachine;
  handlers: Record<string, (input: unknown) => Promise<unknown>>;
  retry: Record<string, number>;
  waits: Record<string, number>;
}

function loadMachine(machineName: string, root: string): LoadedMachine {
  const m = localMachines(root).find((x) => x.name === machineName);
  if (!m) throw new Error(`No state machine ${machineName} in serverless.yml`);
  const defs = functionDefs(root);
  const machine = new StateMachine(m.definition as never, { validationOptions: { checkPaths: true, checkArn: true } });
  const handlers: LoadedMachine['handlers'] = {};
  for (const [state, fn] of Object.entries(taskFunctions(m.definition.States as Json))) {
    const def = defs.get(fn);
    if (!def) throw new Error(`State ${state} names function ${fn}, which serverless.yml does not declare`);
    handlers[state] = async (input) => {
      try {
        return await invoke(def, input);
      } catch (e) {
        // Keep the error's name for Retry/Catch, as Lambda reports `errorType`.
        const err = e instanceof Error ? e : new Error(String(e));
        throw err;
      }
    };
  }
  const fast = process.env.DRS_LOCAL_FAST_RETRY ? Number(process.env.DRS_LOCAL_FAST_RETRY) : undefined;
  return {
    machine,
    handlers,
    retry: retryOverrides(m.definition.States as Json, fast),
    waits: waitOverrides(m.definition.States as Json, process.env.DRS_LOCAL_FAST_WAIT ? Number(process.env.DRS_LOCAL_FAST_WAIT) : undefined),
  };
}

/** Mode `compare` runs the compare state machine (statemachines/compare.asl.yml); every other mode the migration one. */
const COMPARE_MACHINE = 'compare';

export class LocalStepFunctions implements Workflow {
  readonly executions = new Map<string, LocalExecution>();
  private readonly machines = new Map<string, LoadedMachine>();

  constructor(
    private readonly machineName = 'migration',
    private readonly root = ROOT,
  ) {
    this.machines.set(machineName, loadMachine(machineName, root));
  }

  private machineFor(input: WorkflowInput): LoadedMachine {
    const name = input.mode === 'compare' ? COMPARE_MACHINE : this.machineName;
    let m = this.machines.get(name);
    if (!m) {
      m = loadMachine(name, this.root);
      this.machines.set(name, m);
    }
    return m;
  }

  async start(input: WorkflowInput): Promise<string> {
    const id = `local:${executionName(input)}:${randomUUID().slice(0, 8)}`;
    const m = this.machineFor(input);
    const run = m.machine.run(executionInput(input) as never, {
      overrides: { taskResourceLocalHandlers: m.handlers as never, retryIntervalOverrides: m.retry, waitTimeOverrides: m.waits },
      noThrowOnAbort: true,
      context: { Execution: { Id: id, Name: id, StartTime: new Date().toISOString(), Input: input as never, RoleArn: 'local' } } as never,
    });
    const exec: LocalExecution = { id, input, status: 'RUNNING', result: run.result, abort: run.abort };
    this.executions.set(id, exec);
    run.result.then(
      (r) => {
        exec.status = r === null ? 'ABORTED' : 'SUCCEEDED';
      },
      (e: Error & { cause?: Error }) => {
        exec.status = 'FAILED';
        exec.error = e.cause?.message ?? e.message;
        logger.warn('local execution failed', { id, error: exec.error });
      },
    );
    return id;
  }

  /** Tests: wait until every execution started so far has finished. */
  async drain(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = [...this.executions.values()].filter((e) => e.status === 'RUNNING');
      if (!running.length) return;
      if (Date.now() > deadline) throw new Error(`executions still running: ${running.map((r) => r.id).join(', ')}`);
      await Promise.race([Promise.allSettled(running.map((r) => r.result)), new Promise((r) => setTimeout(r, 200))]);
    }
  }

  abortAll(): void {
    for (const e of this.executions.values()) if (e.status === 'RUNNING') e.abort();
  }
}

let shared: LocalStepFunctions | undefined;
export function localWorkflow(): LocalStepFunctions {
  shared ??= new LocalStepFunctions();
  return shared;
}
export function resetLocalWorkflow(): void {
  shared?.abortAll();
  shared = undefined;
}
