// signaling-events: a subscriber's SS7/SIP signaling changes its presence.
import { apply } from '../presence/derive.ts';
import type { TopicHandler } from './context.ts';
import { publishPresence } from './presenceChange.ts';

export const signalingEvents: TopicHandler = {
  topic: 'signaling-events',
  needsAvailability: true,
  async handle(ctx, p, key, value, m, out) {
    const e = await ctx.serde.decode('signaling-events', value);
    ctx.stats.signals++;
    ctx.advanceStream(p, e.time);
    const r = apply(m.presence, e);
    if (!r.changed) return false;
    m.presence = r.state;
    publishPresence(ctx, key, m, ctx.clock(p), e.eventId, out);
    return true;
  },
};
