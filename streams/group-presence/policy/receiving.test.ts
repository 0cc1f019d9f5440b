import { describe, expect, it } from 'vitest';
import { ACCEPT_ALL, receivingFromAttributes, receivingFromFilter, ReceivingPolicyError } from './receiving.ts';

const filterSet = (inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<filter-set xmlns="urn:ietf:params:xml:ns:simple-filter" xmlns:gf="urn:presence-gateway:params:xml:ns:group-filter">${inner}</filter-set>`;

describe('receiving policy from member attributes (group API)', () => {
  it('accepts everything when nothing is set', () => {
    expect(receivingFromAttributes({})).toEqual(ACCEPT_ALL);
    expect(receivingFromAttributes(undefined)).toEqual(ACCEPT_ALL);
  });

  it('reads refuse, roles, members and parts', () => {
    expect(receivingFromAttributes({ receive: 'refuse' }).refuse).toBe(true);
    expect(receivingFromAttributes({ 'receive-roles': 'same' }).roles).toBe('same');
    expect(receivingFromAttributes({ 'receive-roles': 'admin, dispatcher' }).roles).toEqual(['admin', 'dispatcher']);
    expect(receivingFromAttributes({ 'receive-members': 'sip:a@x, sip:b@x' }).members).toEqual(['sip:a@x', 'sip:b@x']);
    expect(receivingFromAttributes({ 'receive-parts': 'basic,note' }).parts).toEqual(['basic', 'note']);
  });

  it('narrows to the basic status when stored parts are invalid (never widens)', () => {
    expect(receivingFromAttributes({ 'receive-parts': 'basic,telepathy' }).parts).toEqual(['basic']);
  });
});

describe('receiving policy from an RFC 4661 filter (SUBSCRIBE body)', () => {
  it('takes member URIs from per-resource filters and parts from xpath includes', () => {
    const p = receivingFromFilter(
      filterSet(
        '<filter id="1" uri="sip:user1@example.com"><what><include type="xpath">/pidf:presence/pidf:tuple/pidf:status/pidf:basic</include></what></filter>' +
          '<filter id="2" uri="sip:user2@example.com"><what><include type="xpath">//dm:person/dm:note</include></what></filter>',
      ),
    );
    expect(p).toEqual({ refuse: false, roles: null, members: ['sip:user1@example.com', 'sip:user2@example.com'], parts: ['basic', 'note'] });
  });

  it('refuses member presence when the whole document is excluded', () => {
    expect(receivingFromFilter(filterSet('<filter id="1"><what><exclude type="xpath">/</exclude></what></filter>')).refuse).toBe(true);
  });

  it('reads the role extension', () => {
    expect(receivingFromFilter(filterSet('<filter id="1"><gf:role>same</gf:role></filter>')).roles).toBe('same');
    expect(receivingFromFilter(filterSet('<filter id="1"><gf:role>a,b</gf:role></filter>')).roles).toEqual(['a', 'b']);
  });

  it('ignores removed and disabled filters', () => {
    expect(receivingFromFilter(filterSet('<filter id="1" remove="true" uri="sip:x@y"/><filter id="2" enabled="false" uri="sip:z@y"/>'))).toEqual(ACCEPT_ALL);
  });

  it('refuses documents it cannot honour with a clear error', () => {
    expect(() => receivingFromFilter('<not-xml')).toThrow(ReceivingPolicyError);
    expect(() => receivingFromFilter('<filters/>')).toThrow(/root is not <filter-set>/);
    expect(() => receivingFromFilter(filterSet('<filter id="1"><what><include type="namespace">urn:x</include></what></filter>'))).toThrow(/only xpath/);
    expect(() => receivingFromFilter(filterSet('<filter id="1"><what><include>/foo/bar</include></what></filter>'))).toThrow(/selects no presence part/);
  });
});

describe('per-resource and per-domain filters (RFC 4661 §3.2 uri / domain)', () => {
  it('an exclusion inside a filter for one member drops that member, not every member', () => {
    const p = receivingFromFilter(
      filterSet(
        '<filter id="1" uri="sip:user1@example.com"><what><include type="xpath">//pidf:basic</include></what></filter>' +
          '<filter id="2" uri="sip:user2@example.com"><what><exclude type="xpath">/</exclude></what></filter>',
      ),
    );
    expect(p).toEqual({ refuse: false, roles: null, members: ['sip:user1@example.com'], parts: ['basic'] });
    // The only named member excluded: nobody's presence (the group information still comes).
    expect(receivingFromFilter(filterSet('<filter id="1" uri="sip:user1@example.com"><what><exclude>/</exclude></what></filter>')).members).toEqual([]);
  });

  it('refuses a domain-scoped filter rather than applying it to every member', () => {
    expect(() => receivingFromFilter(filterSet('<filter id="1" domain="other.example"><what><exclude>/</exclude></what></filter>'))).toThrow(
      ReceivingPolicyError,
    );
  });
});

describe('filters we do not implement', () => {
  it('refuses a <trigger> (RFC 4661 §3.4) instead of notifying on every change as if none were given', () => {
    expect(() => receivingFromFilter(filterSet('<filter id="1"><trigger><changed from="open" to="closed">//pidf:basic</changed></trigger></filter>'))).toThrow(
      ReceivingPolicyError,
    );
  });
});
