// Checks for the APIs' OpenAPI documents (issue 13.4), without a validator
// package: `openApiProblems` for what OpenAPI 3.1 requires and what our
// servers rely on, `walkOpenApi` calling every documented operation against a
// running server, and `undocumentedAnswers` probing for routes the document lacks.
import { HTTP_METHODS, type OpenApiDocument, type Operation, type Parameter, type Reference } from '../../protocols/http/openApi.ts';

const isRef = (x: unknown): x is Reference => typeof x === 'object' && x !== null && typeof (x as Reference).$ref === 'string';

/** The value at a local `#/a/b` pointer, or undefined. */
function pointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof at !== 'object' || at === null || !(key in at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function resolve<T>(doc: OpenApiDocument, x: T | Reference): T {
  return (isRef(x) ? pointer(doc, x.$ref) : x) as T;
}

/** Every `$ref` anywhere in `node`, with where it was found. */
function refs(node: unknown, at: string, out: Array<[string, string]>): Array<[string, string]> {
  if (Array.isArray(node)) node.forEach((v, i) => refs(v, `${at}/${i}`, out));
  else if (typeof node === 'object' && node !== null)
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push([at, v]);
      else refs(v, `${at}/${k}`, out);
    }
  return out;
}

const operations = (doc: OpenApiDocument) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m] !== undefined).map((method) => ({ path, method, op: item[method]!, item })),
  );

/** What is wrong with `doc` as an OpenAPI 3.1 document; empty when nothing. */
export function openApiProblems(doc: OpenApiDocument): string[] {
  const problems: string[] = [];
  const d = doc as unknown as Record<string, unknown>;
  if (typeof d['openapi'] !== 'string' || !/^3\.1\.\d+$/.test(doc.openapi)) problems.push(`openapi must be "3.1.x", not ${JSON.stringify(d['openapi'])}`);
  if (typeof doc.info?.title !== 'string' || typeof doc.info?.version !== 'string') problems.push('info needs a title and a version (strings)');
  if (typeof doc.paths !== 'object' || doc.paths === null) return [...problems, 'paths is required'];
  for (const [at, ref] of refs(doc, '#', [])) if (pointer(doc, ref) === undefined) problems.push(`${at}: $ref ${ref} does not resolve`);
  const schemes = doc.components?.securitySchemes ?? {};
  for (const [name, scheme] of Object.entries(schemes)) if (typeof scheme.type !== 'string') problems.push(`security scheme ${name} has no type`);
  const checkSecurity = (where: string, security: Operation['security']) => {
    for (const requirement of security ?? [])
      for (const name of Object.keys(requirement)) if (!(name in schemes)) problems.push(`${where}: security scheme ${name} is not declared`);
  };
  checkSecurity('document', doc.security);
  const ids = new Set<string>();
  for (const path of Object.keys(doc.paths)) if (!path.startsWith('/')) problems.push(`path ${path} must start with /`);
  for (const { path, method, op, item } of operations(doc)) {
    const where = `${method.toUpperCase()} ${path}`;
    if (!op.operationId) problems.push(`${where}: no operationId`);
    else if (ids.has(op.operationId)) problems.push(`${where}: operationId ${op.operationId} is used twice`);
    ids.add(op.operationId);
    checkSecurity(where, op.security);
    const responses = Object.entries(op.responses ?? {});
    if (responses.length === 0) problems.push(`${where}: no responses`);
    for (const [code, r] of responses) {
      if (!/^([1-5](\d\d|XX)|default)$/.test(code)) problems.push(`${where}: response key ${code} is not a status code`);
      const response = resolve(doc, r);
      if (typeof response?.description !== 'string') problems.push(`${where} ${code}: a response needs a description`);
    }
    const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => resolve<Parameter>(doc, p)).filter(Boolean);
    const inPath = new Set([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!));
    const declared = new Set(params.filter((p) => p.in === 'path').map((p) => p.name));
    for (const name of inPath) if (!declared.has(name)) problems.push(`${where}: path parameter {${name}} is not declared`);
    for (const p of params.filter((x) => x.in === 'path')) {
      if (!inPath.has(p.name)) problems.push(`${where}: path parameter ${p.name} is not in the path`);
      if (p.required !== true) problems.push(`${where}: path parameter ${p.name} must be required`);
    }
    for (const p of params) if (!p.schema) problems.push(`${where}: parameter ${p.name} has no schema`);
    if (op.requestBody && Object.keys(op.requestBody.content ?? {}).length === 0) problems.push(`${where}: requestBody without content`);
  }
  return problems;
}

/** `template` with its path parameters replaced by their examples ('x' without one). */
function examplePath(doc: OpenApiDocument, template: string, parameters: Array<Parameter | Reference>): string {
  const params = parameters.map((p) => resolve<Parameter>(doc, p));
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const p = params.find((x) => x.in === 'path' && x.name === name);
    return encodeURIComponent(String(p?.example ?? 'x'));
  });
}

export interface WalkCall {
  method: string;
  path: string;
  status: number;
  documented: string[];
  ok: boolean;
}

const METHOD_ORDER = ['post', 'put', 'get', 'head', 'options', 'patch', 'trace', 'delete'];

/**
 * Calls every documented operation once: path and query parameters from their
 * examples, the JSON body from the request body's example. Creations first and deletions
 * last (the deepest path first), so the reads find what was made.
 */
export async function walkOpenApi(base: string, doc: OpenApiDocument, headers: Record<string, string> = {}): Promise<WalkCall[]> {
  const ops = operations(doc).sort(
    (a, b) => METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method) || (a.method === 'delete' ? b.path.length - a.path.length : 0),
  );
  const calls: WalkCall[] = [];
  for (const { path, method, op, item } of ops) {
    const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])];
    const query = new URLSearchParams();
    for (const p of parameters.map((x) => resolve<Parameter>(doc, x))) if (p.in === 'query' && p.example !== undefined) query.set(p.name, String(p.example));
    const url = examplePath(doc, path, parameters) + (query.size ? `?${query}` : '');
    const example = op.requestBody?.content['application/json']?.example;
    const res = await fetch(`${base}${url}`, {
      method: method.toUpperCase(),
      headers: { ...headers, ...(example !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(example !== undefined ? { body: JSON.stringify(example) } : {}),
    });
    await res.arrayBuffer();
    const documented = Object.keys(op.responses);
    const ok = documented.includes(String(res.status)) || documented.includes(`${String(res.status)[0]}XX`) || documented.includes('default');
    calls.push({ method: method.toUpperCase(), path: url, status: res.status, documented, ok });
  }
  return calls;
}

const PROBE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/**
 * Answers that show a route the document lacks: a method a documented path does
 * not document must be 405, and `/undocumented`, every documented path under
 * `/undocumented`, and `extra404` must be 404. Returns the mismatches.
 */
export async function undocumentedAnswers(
  base: string,
  doc: OpenApiDocument,
  headers: Record<string, string> = {},
  extra404: readonly string[] = [],
): Promise<string[]> {
  const wrong: string[] = [];
  const call = async (method: string, path: string, expected: number) => {
    const res = await fetch(`${base}${path}`, { method, headers });
    await res.arrayBuffer();
    if (res.status !== expected) wrong.push(`${method} ${path}: ${res.status}, expected ${expected}`);
  };
  for (const [template, item] of Object.entries(doc.paths)) {
    const path = examplePath(doc, template, [...(item.parameters ?? []), ...HTTP_METHODS.flatMap((m) => item[m]?.parameters ?? [])]);
    for (const method of PROBE_METHODS) if (item[method.toLowerCase() as keyof typeof item] === undefined) await call(method, path, 405);
    await call('GET', `/undocumented${path}`, 404);
  }
  for (const path of ['/undocumented', ...extra404]) await call('GET', path, 404);
  return wrong;
}
