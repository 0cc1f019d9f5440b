// The peer benchmark's output: a Markdown table per scenario with a row per
// system, the stepped rates with each system's loss-free rate and the ratio.
import type { Measured } from './measure.ts';

export interface ScenarioResult {
  readonly system: string;
  readonly scenario: string;
  readonly publishRate: number;
  /** The machine's UDP receive-buffer drops over the scenario (bench/machineUdpDrops.ts): the harness's and the system's. */
  readonly measured: Measured & { readonly udpDrops: number };
}

export interface StepSummary {
  readonly system: string;
  /** Highest offered PUBLISH rate with no loss, or null when even the first step lost. */
  readonly lossFreeRate: number | null;
  /** The first rate that lost, or null when none did. */
  readonly firstLossRate: number | null;
}

const n = (x: number) => x.toLocaleString('en-US');

export function scenarioTable(rows: readonly ScenarioResult[]): string[] {
  const out = [
    '| system | scenario | PUBLISH answered / failed (offered, at /s) | PUBLISH p50 / p99 | PUBLISH retrans. | time to last answer | SUBSCRIBE answered (retrans.) | NOTIFYs received / expected (retrans.) | watchers whose last NOTIFY is not the final state | NOTIFY/s peak / mean | largest NOTIFY body | UDP drops (machine) | loss-free |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const m = r.measured;
    out.push(
      `| ${r.system} | ${r.scenario} | ${n(m.publish.answered)} / ${n(m.publish.failed)} (${n(m.publish.offered)}, ${n(r.publishRate)}/s) | ${m.publish.p50Ms} / ${m.publish.p99Ms} ms | ${n(m.publish.retransmissions)} | ${m.publish.seconds} s | ${n(m.subscribe.answered)} / ${n(m.subscribe.offered)} (${n(m.subscribe.retransmissions)}) | ${n(m.notify.received)} / ${n(m.notify.expected)} (${n(m.notify.retransmissions)}) | ${n(m.staleWatchers)} | ${n(m.notify.peakPerSecond)} / ${n(m.notify.meanPerSecond)} | ${n(m.notify.largestBodyBytes)} B | ${n(m.udpDrops)} | ${m.lossFree ? 'yes' : 'no'} |`,
    );
  }
  return out;
}

export function stepTable(summaries: readonly StepSummary[]): string[] {
  const out = ['| system | loss-free PUBLISH rate | first rate that lost |', '|---|---|---|'];
  for (const s of summaries)
    out.push(
      `| ${s.system} | ${s.lossFreeRate === null ? 'none' : `${n(s.lossFreeRate)}/s`} | ${s.firstLossRate === null ? 'none (all steps loss-free)' : `${n(s.firstLossRate)}/s`} |`,
    );
  const [k, g] = [summaries.find((s) => s.system === 'kamailio'), summaries.find((s) => s.system === 'presence-gateway')];
  if (k?.lossFreeRate && g?.lossFreeRate) out.push('', `ratio presence-gateway / kamailio: ${(g.lossFreeRate / k.lossFreeRate).toFixed(2)}`);
  return out;
}
