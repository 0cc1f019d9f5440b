import { describe, expect, it } from 'vitest';
import { PartitionStore } from '../../../kafka/partitionStore.ts';
import { newSubscriber, type ManagedSubscriber } from '../managedSubscriber.ts';
import type { WatcherDialog } from '../subscriptions/watcherDialog.ts';
import { deactivateDialogs } from './deactivateDialogs.ts';
import { parseHandoffMode } from './handoffMode.ts';

const dialog = (callId: string, cseq: number, version: number): WatcherDialog => ({
  contactVerified: true,
  dialogFilter: null,
  callId,
  remoteTag: `w-${callId}`,
  localTag: `n-${callId}`,
  watcherUri: 'sip:w@example.com',
  presentityUri: 'sip:+351910000001@ims.example.net',
  contact: 'sip:w@127.0.0.1:5070',
  routeSet: ['<sip:proxy.example.com;lr>'],
  state: 'active',
  decision: 'allow',
  expiresAt: 9e12,
  notifyCseq: cseq,
  version,
  subscribeCseq: 1,
  event: 'presence',
  wantsLocation: false,
});

function storeWith(entries: Array<[string, WatcherDialog[]]>): PartitionStore<ManagedSubscriber> {
  const st = new PartitionStore<ManagedSubscriber>(3);
  for (const [key, ds] of entries) {
    const m = newSubscriber(key);
    for (const d of ds) m.watchers.set(`${d.callId}\u0000${d.remoteTag}`, d);
    st.restore(key, m);
  }
  return st;
}

describe('resubscribe handoff', () => {
  it('ends each dialog with terminated;reason=deactivated at its next CSeq and version, and forgets it', () => {
    const st = storeWith([
      ['msisdn:+1', [dialog('a', 4, 4), dialog('b', 1, 1)]],
      ['msisdn:+2', []],
      ['msisdn:+3', [dialog('c', 7, 6)]],
    ]);
    const out = deactivateDialogs(st, 1000);
    expect(out.map((o) => [o.key, o.notify.callId, o.notify.cseq, o.notify.version, o.notify.subscriptionState, o.notify.reason])).toEqual([
      ['msisdn:+1', 'a', 5, 5, 'terminated', 'deactivated'],
      ['msisdn:+1', 'b', 2, 2, 'terminated', 'deactivated'],
      ['msisdn:+3', 'c', 8, 7, 'terminated', 'deactivated'],
    ]);
    expect(out[0]!.notify).toMatchObject({
      localTag: 'n-a',
      remoteTag: 'w-a',
      requestUri: 'sip:w@127.0.0.1:5070',
      routeSet: ['<sip:proxy.example.com;lr>'],
      body: null,
      expires: null,
    });
    // Pending writes: dialogs gone, presence kept; the subscriber without dialogs is not rewritten.
    const pending = new Map(st.pending());
    expect([...pending.keys()]).toEqual(['msisdn:+1', 'msisdn:+3']);
    expect(pending.get('msisdn:+1')!.watchers.size).toBe(0);
    expect(pending.get('msisdn:+1')!.presence.subscriber).toBe('msisdn:+1');
  });

  it('leaves the committed state untouched when the transaction is discarded', () => {
    const st = storeWith([['msisdn:+1', [dialog('a', 4, 4)]]]);
    deactivateDialogs(st, 1000);
    st.rollback();
    const d = [...st.get('msisdn:+1')!.watchers.values()][0]!;
    expect([d.notifyCseq, d.version]).toEqual([4, 4]);
    expect(deactivateDialogs(st, 1000)[0]!.notify.cseq).toBe(5);
  });

  it('names the accepted modes in its error', () => {
    expect(parseHandoffMode('resubscribe', 'x')).toBe('resubscribe');
    expect(() => parseHandoffMode('moved', '--handoff')).toThrow('--handoff must be one of transparent, resubscribe, not "moved"');
  });
});
