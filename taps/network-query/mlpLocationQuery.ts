// Le: the location of a subscriber from a GMLC over OMA MLP 3.x, a standard
// location immediate request (SLIR) POSTed over HTTP(S), answered in the same
// exchange (res_type SYNC). Every answer, error and failure is an outcome
// (networkQuery.ts); run it behind QueryGuard for the rate limit and timeout.
import { failed, type NetworkQuery, type QueryOptions, type QueryOutcome } from './networkQuery.ts';
import { parseSlia, renderSlir, type MlpPosition } from './mlpMessages.ts';

export interface MlpSettings {
  /** The GMLC's MLP endpoint, http:// or https:// (a private CA through NODE_EXTRA_CA_CERTS). */
  readonly url: string;
  readonly clientId: string;
  readonly password: string | null;
  /** Default requested horizontal accuracy, meters. */
  readonly horizontalAccuracyM: number;
  /** Default oldest acceptable position, seconds. */
  readonly maxLocationAgeS: number;
}

export interface LocationQuestion {
  /** Canonical key; only msisdn:+E164 subscribers can be located over MLP here. */
  readonly subscriber: string;
  readonly horizontalAccuracyM?: number;
  readonly maxLocationAgeS?: number;
}

export class MlpLocationQuery implements NetworkQuery<LocationQuestion, MlpPosition> {
  readonly name = 'location-mlp';

  constructor(private readonly settings: MlpSettings) {
    if (!/^https?:\/\//.test(settings.url)) throw new Error(`MLP url must be http:// or https://, not ${settings.url}`);
  }

  async ask(q: LocationQuestion, { signal }: QueryOptions): Promise<QueryOutcome<MlpPosition>> {
    const m = /^msisdn:\+?(\d{5,15})$/.exec(q.subscriber);
    if (!m) return failed('unknown-subscriber', `${q.subscriber} has no MSISDN to ask the GMLC about`);
    const msisdn = m[1]!;
    const body = renderSlir({
      clientId: this.settings.clientId,
      password: this.settings.password,
      msisdn,
      horizontalAccuracyM: q.horizontalAccuracyM ?? this.settings.horizontalAccuracyM,
      maxLocationAgeS: q.maxLocationAgeS ?? this.settings.maxLocationAgeS,
    });
    let text: string;
    try {
      const res = await fetch(this.settings.url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body, signal });
      text = await res.text();
      if (!res.ok) return failed('system-failure', `GMLC answered HTTP ${res.status}`);
    } catch (err) {
      if (signal.aborted) return failed('timeout', 'GMLC did not answer in time');
      const cause = (err as Error & { cause?: Error }).cause;
      return failed('system-failure', `GMLC unreachable: ${cause?.message ?? (err as Error).message}`);
    }
    return parseSlia(text, msisdn);
  }
}
