/**
 * `serverless package` works offline with no AWS account, and the CloudFormation it generates
 * has what the service needs: the table, the state machines, a route for every declared httpApi
 * event, scoped IAM, and no stack over CloudFormation's 500-resource limit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServerlessYml, routes } from '../../../lib/local/routes.js';
import { ROOT } from '../../helpers/local.js';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Template = { Resources: Record<string, Resource> };

let out: string;
let root: Template;
let nested: Template[];
const all = () => [root, ...nested].flatMap((t) => Object.entries(t.Resources));

beforeAll(() => {
  out = mkdtempSync(path.join(os.tmpdir(), 'drs-package-'));
  // No AWS account: no credentials of any kind reach the packaging.
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', SLS_TELEMETRY_DISABLED: '1' };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[k];
  execFileSync(path.join(ROOT, 'node_modules/.bin/serverless'), ['package', '--package', out, '--stage', 'ci'], { cwd: ROOT, env, stdio: 'pipe', timeout: 600_000 });
  root = JSON.parse(readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
  nested = readdirSync(out).filter((f) => f.endsWith('nested-stack.json')).map((f) => JSON.parse(readFileSync(path.join(out, f), 'utf8')));
}, 600_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the packaged CloudFormation', () => {
  it('keeps every stack under the 500-resource limit', () => {
    const counts = [root, ...nested].map((t) => Object.keys(t.Resources).length);
    console.log(`stacks: ${counts.length}, resources per stack: ${counts.join(', ')}, total ${counts.reduce((a, b) => a + b, 0)}`);
    for (const n of counts) expect(n).toBeLessThan(500);
  });

  it('declares the single table with pk/sk, the status index and the projected job-list index', () => {
    const tables = all().filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const p = tables[0][1].Properties as { KeySchema: { AttributeName: string }[]; GlobalSecondaryIndexes: { IndexName: string }[] };
    expect(p.KeySchema.map((k) => k.AttributeName)).toEqual(['pk', 'sk']);
    expect(p.GlobalSecondaryIndexes.map((g) => g.IndexName)).toEqual(['gsi1', 'gsi2']);
  });

  it('has a route for every httpApi event declared in serverless.yml', () => {
    const declared = routes(ROOT).map((r) => r.routeKey).sort();
    const deployed = all()
      .filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties!.RouteKey as string)
      .sort();
    expect(deployed).toEqual(declared);
  });

  it('deploys every state machine file under statemachines/', () => {
    const files = readdirSync(path.join(ROOT, 'statemachines')).filter((f) => f.endsWith('.asl.yml'));
    const machines = all().filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
    expect(machines.length).toBe(files.length);
    expect(files.length).toBeGreaterThan(0);
  });

  it('gives every function a scoped role: no wildcard actions on wildcard resources', () => {
    const fns = Object.keys(readServerlessYml(ROOT).functions ?? {});
    const lambdas = all().filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(lambdas.length).toBe(fns.length);
    for (const [id, r] of lambdas) expect(r.Properties!.Role, id).toBeDefined();
    for (const [id, r] of all().filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
      for (const p of ((r.Properties!.Policies ?? []) as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } }[])) {
        for (const s of p.PolicyDocument.Statement) {
          const actions = ([] as string[]).concat(s.Action);
          expect(actions.some((a) => a === '*' || a.endsWith(':*')) && JSON.stringify(s.Resource) === '"*"', `${id}: ${actions}`).toBe(false);
        }
      }
    }
  });

  it('bundles each API function separately, small', () => {
    const zip = path.join(out, 'v5-create-connection.zip');
    const kb = Math.round(statSync(zip).size / 1024);
    console.log(`bundle size of one API function (v5-create-connection.zip): ${kb} KiB`);
    expect(kb).toBeGreaterThan(0);
  });
});
