// `presence watchers` text rows: a dialog (busy lamp field) watcher says so, and
// names the one call it is limited to (Event: dialog;call-id=…); presence rows stay as they were.
import { describe, expect, it } from 'vitest';
import { watcherPackage } from './locate.ts';

describe('watcherPackage', () => {
  it('nothing for presence; the package for dialog; the call-id of a one-dialog subscription', () => {
    expect(watcherPackage({ event: 'presence' })).toBe('');
    expect(watcherPackage({})).toBe('');
    expect(watcherPackage({ event: 'dialog' })).toBe(' [dialog]');
    expect(watcherPackage({ event: 'dialog', dialogFilter: { callId: 'c1@pbx' } })).toBe(' [dialog call-id=c1@pbx]');
  });
});
