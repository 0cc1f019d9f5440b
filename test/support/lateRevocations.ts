// node-rdkafka with every revocation delivered 20 ms late, as on a busy event loop, so it
// lands inside the batch its consume returned (issue 12's revocation race). For a test's
// `vi.mock('node-rdkafka', async (importOriginal) => (await import('../support/lateRevocations.ts')).withLateRevocations(importOriginal))`;
// processors mark the partitions of the batch they are in (`race.inProcess`), and `race`
// counts the revocations and those that reached a member in the middle of one.
type RdKafka = { default: typeof import('node-rdkafka') };

/** Per member (client id), the partitions of the batch in process(); revocations that reached one in the middle. */
export const race = { inProcess: new Map<string, Set<number>>(), midBatch: 0, revocations: 0 };

export async function withLateRevocations(importOriginal: () => Promise<unknown>): Promise<RdKafka> {
  const real = (await importOriginal()) as RdKafka;
  const RealConsumer = real.default.KafkaConsumer;
  function KafkaConsumer(conf: Record<string, unknown>, topicConf: unknown) {
    const cb = conf.rebalance_cb;
    if (typeof cb !== 'function') return new RealConsumer(conf as never, topicConf as never);
    return new RealConsumer(
      {
        ...conf,
        rebalance_cb(this: unknown, err: { code: number }, assignment: unknown[]) {
          if (err?.code !== real.default.CODES.ERRORS.ERR__REVOKE_PARTITIONS) return cb.call(this, err, assignment);
          setTimeout(() => {
            race.revocations++;
            const busy = race.inProcess.get(String(conf['client.id']));
            if ((assignment as Array<{ partition: number }>).some((a) => busy?.has(a.partition))) race.midBatch++;
            cb.call(this, err, assignment);
          }, 20);
        },
      } as never,
      topicConf as never,
    );
  }
  return { ...real, default: { ...real.default, KafkaConsumer } } as unknown as RdKafka;
}
