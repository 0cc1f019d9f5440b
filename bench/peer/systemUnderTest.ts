// What the peer benchmark needs of either system: where its SIP front door
// is, and how to stop it.
export interface SystemUnderTest {
  /** 'kamailio' or 'presence-gateway'. */
  readonly name: string;
  readonly host: string;
  /** UDP port watchers SUBSCRIBE to and publishers PUBLISH to. */
  readonly port: number;
  /** From start to the first PUBLISH answered 200. */
  readonly readyMs: number;
  /** Log files of its processes, for a failed run. */
  readonly logs: readonly string[];
  stop(): Promise<void>;
}
