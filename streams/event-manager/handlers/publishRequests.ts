// publish-requests: a handset's PUBLISH via a front end (publish/). The answer goes
// out in the same transaction as the state change — unless the front end already
// answered (an initial publication, `answered`), whose outcome this member
// reaches too (same entity tag, never refused).
import { applyPublishRequest } from '../publish/publishRequest.ts';
import type { TopicHandler } from './context.ts';
import { publishPresence } from './presenceChange.ts';

export const publishRequests: TopicHandler = {
  topic: 'publish-requests',
  needsAvailability: true,
  async handle(ctx, p, key, value, m, out) {
    const req = await ctx.serde.decode('publish-requests', value);
    ctx.stats.publishes++;
    ctx.advanceStream(p, req.receivedAt);
    const r = applyPublishRequest(m.presence, req);
    if (!req.answered) out.push({ topic: ctx.topic('publish-responses'), key: req.frontEnd, value: ctx.serde.encode('publish-responses', r.response) });
    if (!r.changed) return false;
    m.presence = r.state;
    publishPresence(ctx, key, m, ctx.clock(p), req.requestId, out);
    return true;
  },
};
