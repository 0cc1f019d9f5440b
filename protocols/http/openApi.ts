// The pieces every API's OpenAPI 3.1 document shares (issue 13.4): the
// document's types, the bearer-token scheme as bearerTokens.ts checks it, the
// JSON error body and the answers every API gives alike. Each API writes its
// own document beside its server (one file per API) from these, and serves it
// unauthenticated at GET /openapi.json, so a client needs no token to learn
// which token it needs.
import type http from 'node:http';
import { sendJson } from './jsonResponse.ts';

export type JsonSchema = { [key: string]: unknown };

export interface Reference {
  $ref: string;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: JsonSchema;
  example?: unknown;
}

export interface MediaType {
  schema: JsonSchema | Reference;
  example?: unknown;
}

export interface Response {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, MediaType>;
}

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  parameters?: Array<Parameter | Reference>;
  requestBody?: { required?: boolean; description?: string; content: Record<string, MediaType> };
  responses: Record<string, Response | Reference>;
  /** Scopes as role names: OpenAPI 3.1 allows them for non-OAuth schemes. `[]` at operation level: open. */
  security?: Array<Record<string, string[]>>;
}

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
export const HTTP_METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export type PathItem = Partial<Record<HttpMethod, Operation>> & { parameters?: Array<Parameter | Reference> };

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers?: Array<{ url: string; description?: string }>;
  paths: Record<string, PathItem>;
  components?: {
    schemas?: Record<string, JsonSchema>;
    responses?: Record<string, Response>;
    parameters?: Record<string, Parameter>;
    securitySchemes?: Record<string, { type: string; scheme?: string; in?: 'header' | 'query' | 'cookie'; name?: string; description?: string }>;
  };
  security?: Array<Record<string, string[]>>;
}

export const OPENAPI_PATH = '/openapi.json';

/** A required string path parameter (every one the APIs have), with the example the walk test sends. */
export function pathParameter(name: string, description: string, example: string): Parameter {
  return { name, in: 'path', required: true, description, schema: { type: 'string' }, example };
}

/** The scheme name every document uses. */
export const BEARER = 'bearerToken';

export const bearerScheme = {
  type: 'http',
  scheme: 'bearer',
  description:
    "A token from the operator's tokens file (`presence tokens create`), sent as `Authorization: Bearer <token>`. Scopes are listed per operation. " +
    'Without a tokens file configured the API is open (local use only). 401 with WWW-Authenticate when the token is missing or unknown, 403 when it lacks the scope.',
};

export const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'What went wrong, for a person.' },
    field: { type: 'string', description: 'The request part at fault (400, 409).' },
  },
};

/** A JSON error answer; the schema is the document's components.schemas.Error. */
export function errorResponse(description: string, headers: Response['headers'] = {}): Response {
  return {
    description,
    ...(Object.keys(headers).length ? { headers } : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
}

const wwwAuthenticate = {
  'WWW-Authenticate': { description: 'Bearer realm="presence" (error="invalid_token" for an unknown token).', schema: { type: 'string' } },
};

/** Answers shared by every API, referenced from components.responses. */
export const commonResponses: Record<string, Response> = {
  Unauthorized: errorResponse('No bearer token, or one the tokens file does not hold.', wwwAuthenticate),
  Forbidden: errorResponse('The token lacks the scope this operation needs.'),
  InternalError: {
    description: 'An unexpected failure; the body carries an error id for the log, never the detail.',
    content: { 'application/json': { schema: { type: 'object', required: ['error'], properties: { error: { type: 'string' }, id: { type: 'string' } } } } },
  },
};

export const ref = (kind: 'schemas' | 'responses' | 'parameters', name: string): Reference => ({ $ref: `#/components/${kind}/${name}` });

/** The operation that serves the document itself: open, always 200. */
export const openApiOperation: Operation = {
  operationId: 'getOpenApi',
  summary: 'This document (OpenAPI 3.1); needs no token',
  security: [],
  responses: { '200': { description: 'The OpenAPI document.', content: { 'application/json': { schema: { type: 'object' } } } } },
};

/** Answers /openapi.json (GET: `doc`, other methods 405); true when the path was it. */
export function serveOpenApi(req: http.IncomingMessage, res: http.ServerResponse, path: string, doc: OpenApiDocument): boolean {
  if (path !== OPENAPI_PATH) return false;
  if (req.method === 'GET') sendJson(res, 200, doc);
  else sendJson(res, 405, { error: `method ${req.method} not allowed; use GET` }, { allow: 'GET' });
  return true;
}
