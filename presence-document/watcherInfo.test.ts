// The watcherinfo encoder (RFC 3858): valid against the RFC's schema
// (watcherinfo.xsd, checked with xmllint when installed), escaped, read back
// the same; a client's view follows full and partial documents by version.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAVE_XMLLINT, validateAgainstSchema } from '../test/support/xmlSchema.ts';
import { DecodeError } from '../protocols/decode/layer.ts';
import { applyWatcherInfo, parseWatcherInfo, renderWatcherInfo, type WatcherEntry, type WatcherInfoDocument } from './watcherInfo.ts';

const XSD = join(import.meta.dirname, 'watcherinfo.xsd');
const xmllint = (xml: string) => validateAgainstSchema(XSD, xml);

const pending: WatcherEntry = { id: 'w1', uri: 'sip:bob@example.com', status: 'pending', event: 'subscribe', expiration: 3599.6, durationSubscribed: 0 };
const full: WatcherInfoDocument = {
  version: 0,
  state: 'full',
  lists: [
    {
      resource: 'sip:alice@example.com',
      package: 'presence',
      watchers: [pending, { id: 'w2', uri: 'sip:carol@example.com', status: 'active', event: 'approved', displayName: 'Carol <& co>' }],
    },
  ],
};

describe('watcherinfo documents (RFC 3858)', () => {
  it('renders the namespace, version, state, list and watchers, and reads back the same', () => {
    const xml = renderWatcherInfo(full);
    expect(xml).toContain('<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" version="0" state="full">');
    expect(xml).toContain('<watcher-list resource="sip:alice@example.com" package="presence">');
    expect(xml).toContain('<watcher id="w1" status="pending" event="subscribe" expiration="3599" duration-subscribed="0">sip:bob@example.com</watcher>');
    expect(xml).toContain('display-name="Carol &lt;&amp; co&gt;"');
    const back = parseWatcherInfo(xml);
    expect(back.lists[0]!.watchers[0]).toEqual({ ...pending, expiration: 3599 });
    expect(back.lists[0]!.watchers[1]!.displayName).toBe('Carol <& co>');
    expect(renderWatcherInfo(back)).toBe(
      renderWatcherInfo({ ...full, lists: [{ ...full.lists[0]!, watchers: [{ ...pending, expiration: 3599 }, full.lists[0]!.watchers[1]!] }] }),
    );
  });

  it.skipIf(!HAVE_XMLLINT)('is valid against the RFC 3858 schema (xmllint), and the schema refuses a bad status', () => {
    const docs: WatcherInfoDocument[] = [
      full,
      {
        version: 3,
        state: 'partial',
        lists: [{ resource: 'sip:alice@example.com', package: 'presence', watchers: [{ ...pending, status: 'terminated', event: 'rejected' }] }],
      },
      { version: 0, state: 'full', lists: [{ resource: 'sip:alice@example.com', package: 'presence', watchers: [] }] },
      { version: 0, state: 'full', lists: [] },
    ];
    for (const d of docs) {
      const r = xmllint(renderWatcherInfo(d));
      expect(r.ok, r.out).toBe(true);
    }
    // The oracle can fail: a status outside the RFC's list is refused.
    expect(xmllint(renderWatcherInfo(full).replace('status="pending"', 'status="maybe"')).ok).toBe(false);
  });

  it('refuses what is not a watcherinfo document, naming why', () => {
    expect(() => parseWatcherInfo('<presence/>')).toThrow(DecodeError);
    expect(() => parseWatcherInfo(renderWatcherInfo(full).replace('state="full"', 'state="some"'))).toThrow(/state some/);
    expect(() => parseWatcherInfo(renderWatcherInfo(full).replace('status="pending"', 'status="maybe"'))).toThrow(/status maybe/);
    expect(() => parseWatcherInfo(renderWatcherInfo(full).replace(' id="w1"', ''))).toThrow(/without id/);
    expect(() => parseWatcherInfo('<watcherinfo')).toThrow(DecodeError);
  });

  it("a client's view: full replaces, partial updates by id, terminated leaves, a skipped version asks for a full document", () => {
    const view = new Map<string, WatcherEntry>();
    applyWatcherInfo(view, full);
    expect([...view.keys()]).toEqual(['w1', 'w2']);
    const approved = { ...pending, status: 'active' as const, event: 'approved' as const };
    applyWatcherInfo(view, { version: 1, state: 'partial', lists: [{ ...full.lists[0]!, watchers: [approved] }] });
    expect(view.get('w1')!.status).toBe('active');
    applyWatcherInfo(view, {
      version: 2,
      state: 'partial',
      lists: [{ ...full.lists[0]!, watchers: [{ ...approved, status: 'terminated', event: 'timeout' }] }],
    });
    expect([...view.keys()]).toEqual(['w2']);
    expect(() => applyWatcherInfo(view, { version: 4, state: 'partial', lists: [] })).toThrow(/full document is needed/);
  });
});
