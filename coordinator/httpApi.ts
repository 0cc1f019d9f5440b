// The coordinator's HTTP API: GET /locate/{identity} answers what
// `presence locate` prints (owner from the members' reports: id, host, SIP
// contact, HTTP url, report age); GET /healthz says whether Kafka answers.
// Errors use HTTP statuses: 400 for an identity that is none, 404 for an
// unknown path, 405 for other methods, 503 when Kafka does not answer.
import http from 'node:http';
import type { Settings } from '../config/settings.ts';
import type { SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import { brokerAnswers } from '../kafka/kafkaAdmin.ts';
import { KafkaUnavailableError } from '../kafka/recordProducer.ts';
import { UnknownIdentityError, locate } from './locator.ts';
import { MemberReportsUnavailableError } from './memberReportsReader.ts';

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function startHttpApi(s: Settings, port: number, host = '127.0.0.1', directory?: SubscriberDirectory): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (req.method !== 'GET') return send(res, 405, { error: `method ${req.method} not allowed; use GET` });
      if (url.pathname === '/healthz') {
        const ok = await brokerAnswers(s.kafka.brokers);
        return send(res, ok ? 200 : 503, { kafka: ok ? 'up' : 'down', brokers: s.kafka.brokers });
      }
      const m = /^\/locate\/(.+)$/.exec(url.pathname);
      if (!m) return send(res, 404, { error: `no such resource ${url.pathname}; try /locate/{msisdn|imsi|aor} or /healthz` });
      return send(res, 200, await locate(s, decodeURIComponent(m[1]!), directory));
    } catch (err) {
      if (err instanceof UnknownIdentityError) return send(res, 400, { error: err.message });
      if (err instanceof KafkaUnavailableError || err instanceof MemberReportsUnavailableError || /connect|broker|timed out/i.test((err as Error).message)) {
        // librdkafka's own messages ("broker transport failure") don't say which Kafka.
        const msg = (err as Error).message;
        return send(res, 503, { error: msg.includes(s.kafka.brokers) ? msg : `${msg} (Kafka at ${s.kafka.brokers})` });
      }
      return send(res, 500, { error: (err as Error).message });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
