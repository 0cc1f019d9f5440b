// To-tags any front end can recognise as its own without shared state: the
// tag is a MAC of the dialog's Call-ID and the watcher's From-tag under a
// secret the front ends share. An in-dialog SUBSCRIBE whose To-tag no front
// end issued names no dialog of ours and is answered 481 (RFC 6665 §4.1.2.2,
// RFC 3261 §12.2.2) before anything is recorded, so a forged or stale dialog
// cannot create state at the event managers.
import { createHmac, timingSafeEqual } from 'node:crypto';

const TAG_BYTES = 9; // 72 bits: 12 base64url characters, well above RFC 3261 §19.3's 32 bits of randomness

export class DialogTags {
  constructor(private readonly secret: Buffer) {}

  /** The To-tag for a new dialog with this Call-ID and From-tag. */
  tagFor(callId: string, fromTag: string): string {
    return createHmac('sha256', this.secret).update(`${callId}\n${fromTag}`).digest().subarray(0, TAG_BYTES).toString('base64url');
  }

  /** Whether `toTag` is the tag a front end sharing the secret gave this dialog. */
  issued(callId: string, fromTag: string, toTag: string): boolean {
    const want = Buffer.from(this.tagFor(callId, fromTag));
    const got = Buffer.from(toTag);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
