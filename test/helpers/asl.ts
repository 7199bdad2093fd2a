/**
 * Static checks every state machine must pass, shared by the per-machine tests: valid ASL
 * (asl-validator, before and after intrinsic resolution), deployed from this very file, every
 * Task with Lambda's 900 s, a retry of transient errors and a Catch into the machine's failure
 * recorder (a Task inside a Map has no Catch: the Map catches and keeps the error), every
 * Resource a function declared in serverless.yml and named after its state, every state reachable.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import validate from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readServerlessYml } from '../../lib/local/routes.js';
import { localMachines } from '../../lib/local/step-functions.js';
import { ROOT } from './local.js';

type State = {
  Type: string;
  Resource?: unknown;
  TimeoutSeconds?: number;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
};

function tasks(states: Record<string, State>, inMap = false): { name: string; state: State; inMap: boolean }[] {
  return Object.entries(states).flatMap(([name, s]) => [...(s.Type === 'Task' ? [{ name, state: s, inMap }] : []), ...(s.ItemProcessor ? tasks(s.ItemProcessor.States, true) : [])]);
}

function reachable(start: string, states: Record<string, State>): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || !states[n]) continue;
    seen.add(n);
    const s = states[n];
    for (const next of [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next), ...(s.Catch ?? []).map((c) => c.Next)]) if (next) stack.push(next);
  }
  return seen;
}

export function describeStateMachine(machine: string, file: string, markFailed: string): void {
  const raw = parse(readFileSync(path.join(ROOT, file), 'utf8')) as { StartAt: string; States: Record<string, State> };
  const functions = Object.keys(readServerlessYml(ROOT).functions ?? {});

  describe(file, () => {
    it('is valid ASL (asl-validator), before and after intrinsic resolution', () => {
      const resolved = localMachines(ROOT).find((m) => m.name === machine)!.definition;
      for (const def of [raw, resolved]) {
        const r = validate(def, { checkPaths: true, checkArn: false });
        expect(r.isValid, r.errorsText()).toBe(true);
      }
    });

    it('is the definition serverless.yml deploys', () => {
      const sls = readServerlessYml(ROOT) as { stepFunctions: { stateMachines: Record<string, { definition: string }> } };
      expect(sls.stepFunctions.stateMachines[machine].definition).toBe(`\${file(${file})}`);
    });

    it(`gives every Task a retry of transient errors and a Catch into ${markFailed} (inside a Map: the Map catches for it)`, () => {
      for (const { name, state, inMap } of tasks(raw.States)) {
        expect(state.Retry?.[0].ErrorEquals, name).toContain('RetryableError');
        expect(state.Retry?.[0].ErrorEquals, name).toContain('Lambda.ServiceException');
        if (name === markFailed) continue;
        // A Catch inside a Map could only end the iteration and lose the error; the Map's own Catch keeps it.
        if (inMap) expect(state.Catch, name).toBeUndefined();
        else expect(state.Catch?.[0], name).toMatchObject({ ErrorEquals: ['States.ALL'], Next: markFailed });
      }
      for (const [name, s] of Object.entries(raw.States)) if (s.Type === 'Map') expect(s.Catch?.[0], name).toMatchObject({ ErrorEquals: ['States.ALL'], Next: markFailed });
    });

    it('gives every Task 900 s, the Lambda limit (the local runner would default to 60 s)', () => {
      for (const { name, state } of tasks(raw.States)) expect(state.TimeoutSeconds, name).toBe(900);
    });

    it('names only functions declared in serverless.yml', () => {
      for (const { name, state } of tasks(raw.States)) {
        const fn = (state.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        expect(functions, `${name} → ${fn}`).toContain(fn);
      }
    });

    it('names each Task after its function (LoadChunks → load-chunks)', () => {
      const kebab = (n: string) => n.replace(/[A-Z]/g, (c, i: number) => (i ? '-' : '') + c.toLowerCase());
      for (const { name, state } of tasks(raw.States)) expect((state.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0], name).toBe(kebab(name));
    });

    it('reaches every state', () => {
      expect([...reachable(raw.StartAt, raw.States)].sort()).toEqual(Object.keys(raw.States).sort());
      for (const [, s] of Object.entries(raw.States)) {
        if (s.ItemProcessor) expect([...reachable(s.ItemProcessor.StartAt, s.ItemProcessor.States)].sort()).toEqual(Object.keys(s.ItemProcessor.States).sort());
      }
    });
  });
}
