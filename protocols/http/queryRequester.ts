// Whom a presence query asks as (issue 16.3: connectability is computed per
// requester, in NOTIFYs and in queries alike): the member API and the
// coordinator's locate answer with the connectability this requester gets.
import type { HttpClient } from './bearerTokens.ts';
import type { Parameter } from './openApi.ts';
import { parseUri } from '../decode/sip/index.ts';

/** A requester the query may not name (400) or a user asking as another or blocked (403). */
export class RequesterRefused extends Error {
  constructor(
    readonly status: 400 | 403,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Whom the presence is computed for: a token's user is itself (naming another is 403);
 * a service client (no identity) or an API without tokens may name one with ?requester=;
 * no one named: anonymous, what a requester in none of the contact lists gets.
 */
export function requesterOf(url: URL, client: HttpClient | undefined): string | undefined {
  const named = url.searchParams.getAll('requester').map((v) => v.trim().replace(/^<|>$/g, ''));
  if (named.length > 1) throw new RequesterRefused(400, `more than one requester given: ${named.join(', ')}`);
  const uri = named[0];
  if (uri !== undefined) {
    const u = parseUri(uri);
    if (!u || !['sip', 'sips', 'tel'].includes(u.scheme) || (u.scheme !== 'tel' && !u.user))
      throw new RequesterRefused(400, `requester ${uri} is not a sip:, sips: or tel: URI of a user`);
  }
  if (client?.identity === undefined) return uri;
  if (uri !== undefined && uri !== client.identity) throw new RequesterRefused(403, `client ${client.name} asks as ${client.identity}, not as ${uri}`);
  return client.identity;
}

/**
 * `view=requester`: a service client asking on behalf of a user who authenticated to it (the
 * locator for a user's token) wants that user's view — the presence only, 403 when blocked — not
 * the operator's. It can only narrow what the client may see.
 */
export const VIEW_AS_REQUESTER = 'view=requester';

export const viewParameter: Parameter = {
  name: 'view',
  in: 'query',
  required: false,
  description:
    "requester: answer as the requester itself would be answered (the presence only; 403 when the presentity blocked it) — for a service asking on a user's behalf.",
  schema: { type: 'string', enum: ['requester'] },
};

/** The `requester` query parameter as the OpenAPI documents of those APIs describe it. */
export const requesterParameter: Parameter = {
  name: 'requester',
  in: 'query',
  required: false,
  description: "Whose connectability (sip:, sips: or tel: URI); a token's user may name only itself. Absent: anonymous.",
  schema: { type: 'string' },
  example: 'sip:boss@corp.example',
};
