// How the services' JSON APIs answer a request whose handling threw: the
// caller's mistake with its status (and the field it names), a refused token
// 401/403, an API's own refusals, an outage 503 + Retry-After (the database;
// Kafka or the registry — a retry is safe), anything else 500 with an error id
// instead of internals. One place, so every API classifies alike.
import type http from 'node:http';
import { isOutage } from '../kafka/errorClass.ts';
import { KafkaUnavailableError } from '../kafka/recordProducer.ts';
import { AccessRefused } from '../protocols/http/bearerTokens.ts';
import { internalErrorBody } from '../protocols/http/internalError.ts';
import { HttpError, isDatabaseDown } from '../protocols/http/jsonRequest.ts';
import { sendJson } from '../protocols/http/jsonResponse.ts';

/** An API's own refusal of a thrown error (e.g. a validation error naming its field), or undefined. */
export type Refusal = (err: unknown) => { status: number; body: Record<string, unknown> } | undefined;

export function answerFailure(req: http.IncomingMessage, res: http.ServerResponse, err: unknown, log?: (line: string) => void, refusal?: Refusal): void {
  if (res.headersSent) return void res.destroy();
  if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message, ...(err.field ? { field: err.field } : {}) }, err.headers);
  if (err instanceof AccessRefused) return sendJson(res, err.status, { error: err.message }, err.headers);
  const refused = refusal?.(err);
  if (refused) return sendJson(res, refused.status, refused.body);
  if (isDatabaseDown(err)) {
    log?.(`${req.method} ${req.url}: database unavailable: ${(err as Error).message}`);
    return sendJson(res, 503, { error: 'database unavailable' }, { 'retry-after': '5' });
  }
  if (err instanceof KafkaUnavailableError || isOutage(err)) {
    log?.(`${req.method} ${req.url}: ${(err as Error).message}`);
    return sendJson(res, 503, { error: (err as Error).message }, { 'retry-after': '2' });
  }
  return sendJson(res, 500, internalErrorBody(err, `${req.method} ${req.url}`, log));
}
