// The location agent's decision for one request (Le): ask the GMLC through the
// guarded MLP query and turn a position into the SignalingEvent the event
// manager applies. Every other outcome (unknown subscriber, position method
// failure, timeout, garbage, rate-limited) is counted by reason and publishes
// nothing: the presence keeps the position it had.
import type { LocationRequest, SignalingEvent } from '../../schemas/generated/records.ts';
import type { LocationQuestion } from '../../taps/network-query/mlpLocationQuery.ts';
import type { MlpPosition } from '../../taps/network-query/mlpMessages.ts';
import type { QueryOutcome } from '../../taps/network-query/networkQuery.ts';
import type { QueryGuard } from '../../taps/network-query/queryGuard.ts';
import { locationEvent } from '../../taps/network-query/locationEvent.ts';

export interface LocationAnswer {
  readonly outcome: QueryOutcome<MlpPosition>;
  /** What to publish on signaling-events; null when the network gave no position. */
  readonly event: SignalingEvent | null;
}

export class LocationAgent {
  constructor(
    readonly guard: QueryGuard<LocationQuestion, MlpPosition>,
    private readonly agentName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async answer(r: LocationRequest): Promise<LocationAnswer> {
    const outcome = await this.guard.ask({
      subscriber: r.subscriber,
      ...(r.maxLocationAgeS !== null ? { maxLocationAgeS: r.maxLocationAgeS } : {}),
      ...(r.horizontalAccuracyM !== null ? { horizontalAccuracyM: r.horizontalAccuracyM } : {}),
    });
    if (!outcome.ok) return { outcome, event: null };
    return { outcome, event: locationEvent(r.subscriber, outcome.fact, { agent: this.agentName, answeredAt: this.now() }) };
  }
}
