// The call-handling question as query parameters (GET
// /subscribers/{key}/call-handling?caller=…&medium=…&urgent=…&voicemail=…&at=…),
// parsed in one place: the member API answers it, the SIP redirect server asks
// it. A bad parameter is a CallQueryError naming it (HTTP 400), never a guess.
import { MEDIA, type CallRequest, type Medium } from './callDecision.ts';

export class CallQueryError extends Error {
  override name = 'CallQueryError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}

const PARAMETERS = ['caller', 'medium', 'urgent', 'voicemail', 'at'] as const;
type CallQuery = Partial<Record<(typeof PARAMETERS)[number], string>>;

function flag(name: string, raw: string | null): boolean {
  if (raw === null) return false;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new CallQueryError(name, `must be true or false, not ${raw}`);
}

/** Query parameters → the request to decide (`at` default: nowMs). Unknown or repeated parameters are refused: a typo must not pass as "not urgent". */
export function parseCallQuery(params: URLSearchParams, nowMs: number): CallRequest {
  for (const name of new Set(params.keys())) {
    if (!(PARAMETERS as readonly string[]).includes(name)) throw new CallQueryError(name, `unknown parameter; use ${PARAMETERS.join(', ')}`);
    if (params.getAll(name).length > 1) throw new CallQueryError(name, 'given more than once');
  }
  const caller = params.get('caller');
  if (caller !== null && !/^(sips?|tel):[^\s<>"]+$/i.test(caller)) throw new CallQueryError('caller', `must be a sip:, sips: or tel: URI, not ${caller}`);
  const medium = params.get('medium');
  if (medium !== null && !(MEDIA as readonly string[]).includes(medium))
    throw new CallQueryError('medium', `must be one of ${MEDIA.join(', ')}, not ${medium}`);
  const atRaw = params.get('at');
  const at = atRaw === null ? nowMs : Date.parse(atRaw);
  if (!Number.isFinite(at) || (atRaw !== null && !/^\d{4}-\d\d-\d\dT/.test(atRaw))) throw new CallQueryError('at', `must be an ISO 8601 instant, not ${atRaw}`);
  return {
    ...(caller !== null ? { caller } : {}),
    ...(medium !== null ? { medium: medium as Medium } : {}),
    urgent: flag('urgent', params.get('urgent')),
    voicemail: flag('voicemail', params.get('voicemail')),
    at,
  };
}

/** The request as query parameters (what the redirect server sends the owner). */
export function callQueryString(r: Omit<CallRequest, 'at'> & { at?: number }): string {
  const q: CallQuery = {
    ...(r.caller !== undefined ? { caller: r.caller } : {}),
    ...(r.medium !== undefined ? { medium: r.medium } : {}),
    ...(r.urgent ? { urgent: 'true' } : {}),
    ...(r.voicemail ? { voicemail: 'true' } : {}),
    ...(r.at !== undefined ? { at: new Date(r.at).toISOString() } : {}),
  };
  return new URLSearchParams(q).toString();
}
