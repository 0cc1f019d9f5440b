// The generated subscribers as the subscriber directory holds them, so traffic
// from the generator resolves to our subscribers (the demo, `presence generate
// --provision`, the taps benchmarks).
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { subscriberIdentity, type NumberingOptions } from './identity.ts';

/** Provisions generated subscribers 0…count-1 in the directory, 10,000 per round trip. */
export async function provisionGenerated(directory: SubscriberDirectory, count: number, numbering: NumberingOptions = {}): Promise<void> {
  for (let i = 0; i < count; i += 10_000)
    await directory.provision(
      Array.from({ length: Math.min(10_000, count - i) }, (_, k) => {
        const id = subscriberIdentity(i + k, numbering);
        return { imsi: id.imsi, msisdn: `+${id.msisdn}`, aor: id.aor };
      }),
    );
}
