import { describe, expect, it } from 'vitest';
import { forUpdate, newSubscriber } from './managedSubscriber.ts';
import { notifyChange } from './subscriptions/watcherDialog.ts';

describe('forUpdate', () => {
  it('gives a batch a copy: NOTIFYs on it leave the committed value as it was (an abort then discards them)', () => {
    const committed = newSubscriber('msisdn:+1');
    committed.watchers.set('c\u0000w', {
      contactVerified: true,
      dialogFilter: null,
      callId: 'c',
      remoteTag: 'w',
      localTag: 'n',
      watcherUri: 'sip:w@x',
      presentityUri: 'sip:+1@x',
      contact: 'sip:w@127.0.0.1',
      routeSet: [],
      state: 'active',
      decision: 'allow',
      expiresAt: 9e12,
      notifyCseq: 3,
      version: 3,
      subscribeCseq: 1,
      event: 'presence',
      wantsLocation: false,
    });
    const m = forUpdate(committed);
    m.notifiedPidf = '<presence/>';
    const [n] = notifyChange(
      m.watchers,
      'msisdn:+1',
      { contentType: 'application/pidf+xml', body: '<presence/>' },
      { contentType: 'application/pidf+xml', body: '' },
      0,
      'e1',
    );
    expect([n!.cseq, n!.version]).toEqual([4, 4]);
    expect(committed.notifiedPidf).toBeNull();
    expect(committed.watchers.get('c\u0000w')).toMatchObject({ notifyCseq: 3, version: 3 });
  });
});
