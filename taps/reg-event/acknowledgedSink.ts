// The registration sink over the taps' publisher: a record counts as taken
// only once the brokers acknowledged it, because the ISC and reg-event roles
// answer the S-CSCF / registrar 200 on the strength of it. Calls are
// serialised, so one drain covers one caller's records (low rates: one per
// registration change).
import type { DeadLetter, SignalingEvent } from '../../schemas/generated/records.ts';
import type { SignalingPublisher } from '../signalingPublisher.ts';
import type { RegistrationSink } from './iscApplicationServer.ts';

/** onFailure: the publisher's first delivery failure (it stays failed: the role must stop and be restarted). */
export function acknowledgedSink(publisher: SignalingPublisher, onFailure: (err: Error) => void = () => {}): RegistrationSink {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f, f).catch((err: Error) => {
      onFailure(err);
      throw err;
    });
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    publish: (e: SignalingEvent) => serial(async () => (await publisher.publish(e), await publisher.drain())),
    deadLetter: (d: DeadLetter) => serial(async () => (await publisher.deadLetter(d), await publisher.drain())),
  };
}
