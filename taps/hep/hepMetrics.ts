// The HEP collector's metrics and readiness (README, Operations → Metrics and
// health), read from its stats when scraped.
import type { HealthCheck } from '../../protocols/http/adminServer.ts';
import { byLabel, type Labels, type MetricsRegistry } from '../../protocols/http/metrics.ts';
import type { HepCollector } from './hepCollector.ts';

export function registerHepMetrics(m: MetricsRegistry, c: HepCollector): void {
  m.counter('presence_hep_packets_total', 'HEP packets received, by transport', () => {
    const st = c.stats;
    return [
      [{ transport: 'udp' }, st.udpPackets],
      [{ transport: 'tcp' }, st.tcpPackets],
      [{ transport: 'tls' }, st.tlsPackets],
    ];
  });
  m.counter('presence_hep_packets_by_agent_total', 'HEP packets decoded and accepted, by capture agent id (chunk 0x000c; none without one)', () =>
    byLabel('agent', c.stats.packetsByAgent),
  );
  m.counter('presence_hep_dropped_total', 'HEP packets dropped unread or refused, by reason (window-full, queue-full, stopped, unauthenticated-*)', () => {
    const st = c.stats;
    const out: Array<[Labels, number]> = Object.entries(st.udpDropped).map(([why, n]) => [{ reason: why }, n]);
    for (const [why, n] of Object.entries(st.unauthenticated)) out.push([{ reason: `unauthenticated-${why}` }, n]);
    return out;
  });
  m.counter('presence_hep_signals_total', 'Signaling messages decoded from the packets', () => c.stats.signals);
  m.counter('presence_hep_events_total', 'Signaling events handed to the publisher (keyed by subscriber)', () => c.stats.events);
  m.counter('presence_hep_dead_letters_total', 'Undecodable input published to dead-letters, by layer.reason', () =>
    byLabel('reason', c.stats.deadLettersByReason),
  );
  m.counter('presence_hep_skipped_total', 'Decoded packets that are not signaling we use (e.g. hep.proto5 RTCP), by what', () =>
    byLabel('what', c.stats.skipped),
  );
  m.counter('presence_hep_tcp_connections_total', 'TCP connections accepted from agents', () => c.stats.tcpConnections);
  m.counter('presence_hep_tls_connections_total', 'TLS connections from agents that completed their handshake', () => c.stats.tlsConnections);
  m.counter(
    'presence_hep_tls_refused_total',
    'TLS connections refused at the handshake, by reason (not-tls, no-client-certificate, untrusted-client-certificate, timeout, reset, handshake)',
    () => byLabel('reason', c.stats.tlsRefused),
  );
  m.counter(
    'presence_hep_tcp_closed_for_garbage_total',
    'TCP and TLS connections closed because their stream was not HEP3 framing',
    () => c.stats.tcpClosedForGarbage,
  );
  m.counter('presence_hep_tcp_pauses_total', 'Times a TCP connection was paused for back-pressure', () => c.stats.tcpPauses);
  m.gauge('presence_hep_tcp_connections_open', 'TCP and TLS connections from agents open now', () => c.stats.tcpOpen);
  m.gauge('presence_hep_queued', 'Packets received and not yet taken by the pipeline', () => c.stats.queued);
}

export function hepReadiness(c: HepCollector | undefined): HealthCheck {
  if (!c) return { ok: false, reason: 'starting: connecting to Kafka and binding the port' };
  const err = c.stats.lastError;
  return err ? { ok: false, reason: err } : { ok: true };
}
