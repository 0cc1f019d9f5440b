// A registry request that never gets an answer must not hang `topics apply`
// (seen once in 30 fresh starts against Apicurio: a POST on a kept-alive
// socket was never answered). The registry here is a minimal HTTP stand-in
// because a real one cannot be made to swallow one request on demand.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordSerde } from './serde.ts';
import { TOPICS } from './topology.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** Answers the Confluent API calls `register` makes; swallows the first `swallow` POSTs (reads them, never answers). */
async function registryThatSwallows(swallow: number): Promise<{ url: string; posts: () => number }> {
  let posts = 0;
  const ids = new Map<string, number>();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = (status: number, v: unknown) => res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify(v));
      if (req.method === 'GET' && req.url?.startsWith('/config/')) return json(404, { error_code: 40408, message: 'no config' });
      if (req.method === 'PUT' && req.url?.startsWith('/config/')) return json(200, JSON.parse(body));
      if (req.method === 'POST' && req.url?.endsWith('/versions')) {
        if (posts++ < swallow) return; // never answered
        const id = ids.get(body) ?? ids.size + 1;
        ids.set(body, id);
        return json(200, { id });
      }
      json(404, { error_code: 404, message: 'not here' });
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server!.once('listening', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, posts: () => posts };
}

describe('RecordSerde.registerAll', () => {
  it('retries a registration whose request is never answered, and registers every subject', async () => {
    const registry = await registryThatSwallows(1);
    const serde = new RecordSerde(registry.url, 't.', { requestTimeoutMs: 300 });
    const subjects = await serde.registerAll();
    expect(subjects.size).toBe(TOPICS.length);
    expect(registry.posts()).toBe(TOPICS.length + 1);
  });

  it('gives up after its bound with an error naming the subject, instead of hanging', async () => {
    const registry = await registryThatSwallows(Number.MAX_SAFE_INTEGER);
    const serde = new RecordSerde(registry.url, 't.', { requestTimeoutMs: 100, retryBoundMs: 1_000 });
    await expect(serde.registerAll()).rejects.toThrow(/registering SignalingEvent under t\.signaling-events-value failed: .*Timeout/);
  });
});
