// Asks the owning event manager what to do with a call (its member API's
// GET /subscribers/{key}/call-handling): the owner from a live view of the
// members' reports (the cached owner table: no lookup per call), one HTTP
// request with a short timeout, and every way it can fail said as such, so
// the redirect server answers at once instead of waiting or guessing.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { ApiClientTls } from '../../config/settings.ts';
import { apiGet, type ApiAnswer } from '../../protocols/http/apiClient.ts';
import type { ReportedOwner } from '../../coordinator/memberReports.ts';
import type { CallDecider, OwnerAnswer, OwnerFailure } from '../../subscriber/call-handling/callDecider.ts';
import type { CallDecision, CallRequest } from '../../subscriber/call-handling/callDecision.ts';
import { callQueryString } from '../../subscriber/call-handling/callQuery.ts';

/** Who owns a key: MemberReportsView in production, a table in tests. */
export interface OwnerTable {
  ownerOfKey(key: string): ReportedOwner | null;
}

export { OWNER_FAILURES, type CallDecider, type OwnerAnswer, type OwnerFailure } from '../../subscriber/call-handling/callDecider.ts';

/** Connections kept open to each owner: at 2,000 decisions/s a connection per request would cost more than the decision. */
const SOCKETS_PER_OWNER = 64;

export class OwnerDecisions implements CallDecider {
  private readonly agents: { readonly http: http.Agent; readonly https: https.Agent };

  /** `tls`: the CA the owners' HTTPS APIs are checked with and, where they require mutual TLS, this process's certificate (PRESENCE_HTTP_CLIENT_*, read once). */
  constructor(
    private readonly owners: OwnerTable,
    private readonly o: { readonly token?: string; readonly timeoutMs: number; readonly tls?: ApiClientTls },
  ) {
    const tls = o.tls ?? {};
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_OWNER }),
      https: new https.Agent({
        keepAlive: true,
        maxSockets: SOCKETS_PER_OWNER,
        ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
        ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
        ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
      }),
    };
  }

  async decide(key: string, request: Omit<CallRequest, 'at'>): Promise<OwnerAnswer> {
    const owner = this.owners.ownerOfKey(key);
    if (!owner?.httpUrl)
      return { kind: 'unavailable', reason: 'no-owner', detail: owner ? `${owner.memberId} advertises no member API` : 'no live member reports the partition' };
    const url = `${owner.httpUrl.replace(/\/+$/, '')}/subscribers/${encodeURIComponent(key)}/call-handling?${callQueryString(request)}`;
    let res: { status: number; body: Record<string, unknown> };
    try {
      res = await this.get(url);
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { kind: 'unavailable', reason: timedOut ? 'timeout' : 'error', detail: `${owner.memberId}: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (res.status === 200) return { kind: 'decision', decision: res.body as unknown as CallDecision, memberId: owner.memberId };
    if (res.status === 404) return { kind: 'no-state' };
    // 421: the partition moved since the report we hold; the next report corrects the table.
    const reason: OwnerFailure = res.status === 421 ? 'moved' : res.status === 401 || res.status === 403 ? 'refused' : 'error';
    return { kind: 'unavailable', reason, detail: `${owner.memberId} answered ${res.status}: ${String(res.body.error ?? '')}` };
  }

  /** Closes the kept connections. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private get(url: string): Promise<ApiAnswer> {
    return apiGet(url, {
      headers: this.o.token ? { authorization: `Bearer ${this.o.token}` } : {},
      timeoutMs: this.o.timeoutMs,
      agent: url.startsWith('https:') ? this.agents.https : this.agents.http,
    });
  }
}
