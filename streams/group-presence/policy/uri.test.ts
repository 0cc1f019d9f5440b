import { describe, expect, it } from 'vitest';
import { sameUri } from './uri.ts';

describe('comparing member and watcher URIs', () => {
  it('treats scheme and host case, brackets and parameters as the same URI', () => {
    expect(sameUri('<SIP:alice@Example.COM;transport=tcp>', 'sip:alice@example.com')).toBe(true);
    expect(sameUri('sip:Alice@example.com', 'sip:alice@example.com')).toBe(false);
  });

  it('treats a global number as tel: and as a user=phone SIP URI as the same subscriber (as the front end keys them)', () => {
    expect(sameUri('tel:+351910000001', 'sip:+351910000001@ims.example.net;user=phone')).toBe(true);
    expect(sameUri('tel:+351-91-000-0001', '<sips:+351910000001@other.example.net;user=phone>')).toBe(true);
    expect(sameUri('tel:+351910000001', 'tel:+351910000002')).toBe(false);
    // Without user=phone a SIP user that looks like a number is an ordinary SIP user.
    expect(sameUri('tel:+351910000001', 'sip:+351910000001@ims.example.net')).toBe(false);
  });
});
