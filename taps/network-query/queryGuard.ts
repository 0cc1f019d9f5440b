// What every network query runs behind: at most one query per subscriber per
// interval (a watcher storm must not become a GMLC storm: positioning costs
// the network radio resources), a time budget per query, and outcomes
// counted by reason for the metrics. Clock injected so tests step it.
import { failed, type NetworkQuery, type QueryFailureReason, type QueryOutcome } from './networkQuery.ts';

export interface QueryGuardSettings {
  /** Minimum time between two queries about one subscriber. */
  readonly minIntervalMs: number;
  /** Time budget of one query, answer parsed. */
  readonly timeoutMs: number;
  /** How many subscribers' last-query times are remembered (oldest forgotten first). */
  readonly maxTracked?: number;
}

/** Counts by outcome: 'ok' or a QueryFailureReason; read by the metrics (presence_network_queries_total{query,outcome}). */
export interface QueryStats {
  readonly outcomes: Map<'ok' | QueryFailureReason, number>;
  inFlight: number;
}

export class QueryGuard<Q extends { readonly subscriber: string }, F> {
  readonly stats: QueryStats = { outcomes: new Map(), inFlight: 0 };
  private readonly lastAsked = new Map<string, number>();

  constructor(
    readonly query: NetworkQuery<Q, F>,
    private readonly settings: QueryGuardSettings,
    private readonly now: () => number = Date.now,
  ) {
    if (!(settings.minIntervalMs >= 0) || !(settings.timeoutMs > 0)) throw new Error('query guard needs minIntervalMs >= 0 and timeoutMs > 0');
  }

  async ask(question: Q): Promise<QueryOutcome<F>> {
    const at = this.now();
    const last = this.lastAsked.get(question.subscriber);
    if (last !== undefined && at - last < this.settings.minIntervalMs)
      return this.count(failed('rate-limited', `asked ${at - last} ms ago, minimum ${this.settings.minIntervalMs} ms`));
    this.remember(question.subscriber, at);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.settings.timeoutMs);
    this.stats.inFlight++;
    try {
      const outcome = await this.query.ask(question, { signal: controller.signal });
      // An implementation that finished after the budget still lost the race: callers were promised the timeout.
      if (controller.signal.aborted && outcome.ok) return this.count(failed('timeout', `no answer within ${this.settings.timeoutMs} ms`));
      return this.count(outcome);
    } catch (err) {
      if (controller.signal.aborted) return this.count(failed('timeout', `no answer within ${this.settings.timeoutMs} ms`));
      return this.count(failed('system-failure', (err as Error).message));
    } finally {
      clearTimeout(timer);
      this.stats.inFlight--;
    }
  }

  private remember(subscriber: string, at: number): void {
    this.lastAsked.delete(subscriber); // re-inserted last: Map order is the eviction order
    this.lastAsked.set(subscriber, at);
    const max = this.settings.maxTracked ?? 100_000;
    while (this.lastAsked.size > max) this.lastAsked.delete(this.lastAsked.keys().next().value!);
  }

  private count(o: QueryOutcome<F>): QueryOutcome<F> {
    const k = o.ok ? 'ok' : o.reason;
    this.stats.outcomes.set(k, (this.stats.outcomes.get(k) ?? 0) + 1);
    return o;
  }
}
