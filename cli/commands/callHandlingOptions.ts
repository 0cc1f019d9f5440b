// The call-handling redirect server's answer options, one definition for both
// places it runs: `presence run call-handling` (its own process) and
// `presence run event-manager --call-handling-port` (inside the member). Both
// read the same settings (roles.callHandling.voicemail, .assertedIdentity), so
// an operator sets voicemail and identity trust once whichever way it is deployed.
import type { Command } from 'commander';
import type { Settings } from '../../config/settings.ts';
import { parseUri } from '../../protocols/decode/sip/index.ts';
import { TrustedProxies } from '../../protocols/sip/transport/trustedProxies.ts';
import type { CallHandlingOptions } from '../../services/call-handling/callHandlingServer.ts';

export interface RedirectFlags {
  voicemail?: string;
  /** commander's `--no-asserted-identity`: false when given. */
  assertedIdentity: boolean;
}

/** Adds `--voicemail` and `--no-asserted-identity` to `cmd`; `when` prefixes their help (e.g. the flag they need). */
export function addRedirectOptions(cmd: Command, when = ''): Command {
  return cmd
    .option(
      '--voicemail <uri>',
      `${when}voicemail URI: busy, unreachable and unavailable calls are redirected there (RFC 4458 target and cause added) instead of rejected; default PRESENCE_CALL_HANDLING_VOICEMAIL or none`,
    )
    .option(
      '--no-asserted-identity',
      `${when}take the caller from From only, ignoring P-Asserted-Identity even from the trusted proxies (PRESENCE_SIP_TRUSTED_PROXIES / _NAMES, the only sources it is believed from at all); default PRESENCE_CALL_HANDLING_ASSERTED_IDENTITY or true`,
    );
}

/** The flags' settings, for flagsFromSettings. */
export const redirectSettings = (s: Settings) => ({ voicemail: s.roles.callHandling.voicemail, assertedIdentity: s.roles.callHandling.assertedIdentity });

/** The server options the flags give; a voicemail that is no sip:, sips: or tel: URI is refused, naming the flag. */
export function redirectOptionsOf(o: RedirectFlags): Pick<CallHandlingOptions, 'voicemail' | 'trustAssertedIdentity'> {
  if (o.voicemail !== undefined && !['sip', 'sips', 'tel'].includes(parseUri(o.voicemail)?.scheme ?? '')) {
    throw new Error(`--voicemail must be a sip:, sips: or tel: URI, not ${o.voicemail}`);
  }
  return { trustAssertedIdentity: o.assertedIdentity, ...(o.voicemail ? { voicemail: o.voicemail } : {}) };
}

/** The SIP edge's settings the redirect server shares: whose P-Asserted-Identity is believed, the flood limits, the transaction cap. */
export function callHandlingEdge(s: Settings): Pick<CallHandlingOptions, 'trustedProxies' | 'limits' | 'maxServerTransactions'> {
  return {
    trustedProxies: new TrustedProxies(s.frontEnd.auth.trustedProxies, s.frontEnd.auth.trustedProxyNames),
    // Its callers are the core's proxies, one address carrying everyone's calls: never rate-limited.
    limits: { ...s.frontEnd.limits, exempt: [...s.frontEnd.limits.exempt, ...s.frontEnd.auth.trustedProxies] },
    maxServerTransactions: s.frontEnd.limits.maxTransactions,
  };
}
