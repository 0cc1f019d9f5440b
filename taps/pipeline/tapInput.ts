// What every tap input hands the pipeline, whatever it listens to: a capture
// file, a live pcap stream on stdin, a HEP socket, the traffic generator. An
// input is an async iterable of batches in arrival order (Redpanda Connect's
// input plug-in, in miniature); the pipeline decodes, correlates, resolves
// subscribers, builds events and publishes, the same for all of them.
import type { HepPacket } from '../../protocols/decode/hep/packet.ts';
import type { CapturedFrame } from '../../protocols/decode/pcap/capturedFrame.ts';

/** A carrier payload that arrived already encapsulated (HEP): no link layer to dissect. */
export interface HepItem {
  kind: 'hep';
  packet: HepPacket;
  /** Packet number: stands in for the frame number in event ids and dead-letter origins. */
  number: number;
  /** `hep:<captureId>`: events' source.capture. */
  capture: string;
  /** Extra dead-letter context (peer, transport). */
  context: Record<string, string>;
}

/** Input the input itself could not take (not HEP, a stream cut mid-packet): dead-lettered as it is. */
export interface RejectedItem {
  kind: 'rejected';
  layer: string;
  reason: string;
  message: string;
  raw: Buffer;
  origin: string;
  context: Record<string, string>;
  /** Epoch milliseconds. */
  time: number;
}

/** A captured link-layer frame (the common case, left unwrapped), a carrier payload, or a rejection. */
export type TapItem = CapturedFrame | HepItem | RejectedItem;

export const isFrame = (item: TapItem): item is CapturedFrame => !('kind' in item);

export interface TapInput {
  /** Shown in summaries and dead-letter origins: a file name, 'stdin', 'hep', 'generator-seed1'. */
  readonly name: string;
  /** Items in arrival order, in batches. */
  readonly batches: AsyncIterable<TapItem[]>;
  /**
   * Live inputs: a batch is what arrived since the last one, so the pipeline
   * publishes it at once instead of waiting for a full lookup batch.
   */
  readonly live?: boolean;
  /** Share of the input taken so far (0..1), for progress and ETA: inputs with an end (files, the generator). */
  progress?(): number;
  /** Dead letters carry at most this many raw bytes (a HEP datagram or TCP read can be large). */
  readonly maxDeadLetterBytes?: number;
  /**
   * Live inputs that cannot slow their sender: told when publishing blocks on
   * a full in-flight window and when it moves again (pause readers, drop).
   */
  publisherBlocked?(blocked: boolean): void;
  /** Starts listening (sockets); before the pipeline reads `batches`. */
  open?(): Promise<void>;
  /** Stops taking input; `batches` ends once what arrived is handed over. */
  close?(): Promise<void>;
}

/** One setting of an input plug-in, as the CLI offers it. */
export interface InputField {
  description: string;
  default?: string;
}

/** An input plug-in: its name, what it is, the settings it takes, and how to build it from them. */
export interface TapInputSpec<Config> {
  readonly name: string;
  readonly summary: string;
  readonly fields: { readonly [K in keyof Config]-?: InputField };
  create(config: Config): TapInput;
}
