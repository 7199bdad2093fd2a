/**
 * The route table of the local runtime, read from serverless.yml: every function's handler and
 * its httpApi events. Nothing here lists a route; a route declared in serverless.yml is served.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export interface FunctionDef {
  name: string;
  /** Absolute path of the handler module (the .ts source). */
  modulePath: string;
  exportName: string;
}

export interface Route extends FunctionDef {
  method: string;
  /** As declared, e.g. `/v5/{project_id}/connections/{connection_id}`. */
  path: string;
  routeKey: string;
  params: string[];
  regex: RegExp;
  /** Static segments count: more static = more specific, matched first. */
  specificity: number;
}

interface ServerlessYml {
  functions?: Record<string, { handler: string; events?: { httpApi?: { method: string; path: string } | string }[] }>;
  stepFunctions?: unknown;
}

const FILE_REF = /^\$\{file\((.+)\)\}$/;

/**
 * serverless.yml as the framework sees its functions: `functions` may be a map, or a list of maps
 * and `${file(...)}` includes, merged in order.
 */
export function readServerlessYml(root: string): ServerlessYml {
  const doc = parse(readFileSync(path.join(root, 'serverless.yml'), 'utf8')) as ServerlessYml & { functions?: unknown };
  const raw = doc.functions;
  if (Array.isArray(raw)) {
    const merged: NonNullable<ServerlessYml['functions']> = {};
    for (const part of raw) {
      const ref = typeof part === 'string' ? FILE_REF.exec(part) : null;
      const obj = ref ? parse(readFileSync(path.join(root, ref[1]), 'utf8')) : part;
      Object.assign(merged, obj ?? {});
    }
    doc.functions = merged;
  }
  return doc;
}

export function functionDefs(root: string): Map<string, FunctionDef> {
  const out = new Map<string, FunctionDef>();
  for (const [name, fn] of Object.entries(readServerlessYml(root).functions ?? {})) {
    const dot = fn.handler.lastIndexOf('.');
    out.set(name, { name, modulePath: path.join(root, fn.handler.slice(0, dot) + '.ts'), exportName: fn.handler.slice(dot + 1) });
  }
  return out;
}

function compile(template: string): { regex: RegExp; params: string[]; specificity: number } {
  const params: string[] = [];
  let specificity = 0;
  const body = template
    .split('/')
    .map((seg) => {
      const greedy = /^\{(\w+)\+\}$/.exec(seg);
      if (greedy) {
        params.push(greedy[1]);
        return '(.+)';
      }
      const param = /^\{(\w+)\}$/.exec(seg);
      if (param) {
        params.push(param[1]);
        return '([^/]+)';
      }
      specificity++;
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${body}$`), params, specificity };
}

export function routes(root: string): Route[] {
  const defs = functionDefs(root);
  const out: Route[] = [];
  for (const [name, fn] of Object.entries(readServerlessYml(root).functions ?? {})) {
    for (const ev of fn.events ?? []) {
      if (!ev.httpApi || typeof ev.httpApi === 'string') continue;
      const method = ev.httpApi.method.toUpperCase();
      out.push({ ...defs.get(name)!, method, path: ev.httpApi.path, routeKey: `${method} ${ev.httpApi.path}`, ...compile(ev.httpApi.path) });
    }
  }
  return out.sort((a, b) => b.specificity - a.specificity);
}

export function matchRoute(table: Route[], method: string, rawPath: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of table) {
    if (route.method !== method && route.method !== 'ANY') continue;
    const m = route.regex.exec(rawPath);
    if (!m) continue;
    const params: Record<string, string> = {};
    try {
      route.params.forEach((p, i) => (params[p] = decodeURIComponent(m[i + 1])));
    } catch {
      return undefined;
    }
    return { route, params };
  }
  return undefined;
}
