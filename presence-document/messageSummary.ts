// The message-summary body (RFC 3842 §5.2, `application/simple-message-summary`):
// whether messages wait, for which account, and new/old (urgent new/old) counts
// per message-context class (RFC 3458 §4.2). What an `Event: message-summary`
// NOTIFY carries, and what a voicemail platform's NOTIFY/MESSAGE/PUBLISH sends.
import { DecodeError } from '../protocols/decode/layer.ts';

export const SIMPLE_MESSAGE_SUMMARY = 'application/simple-message-summary';

/** RFC 3458 §4.2 message-context classes, in the order a body lists them. */
export const MESSAGE_CONTEXTS = ['voice-message', 'fax-message', 'pager-message', 'multimedia-message', 'text-message', 'none'] as const;
export type MessageContext = (typeof MESSAGE_CONTEXTS)[number];

export interface MessageClassCount {
  readonly context: MessageContext;
  readonly newCount: number;
  readonly oldCount: number;
  readonly urgentNew: number;
  readonly urgentOld: number;
}

export interface MessageSummary {
  readonly waiting: boolean;
  /** Message-Account: the mailbox the counts are of (a SIP URI or absolute URI); null when not given. */
  readonly account: string | null;
  /** At most one entry per class. */
  readonly classes: readonly MessageClassCount[];
}

/** RFC 3842 §5.2: msgcount MUST NOT exceed 2^32-1. */
const MAX_COUNT = 0xffff_ffff;

const bad = (why: string) => new DecodeError('message-summary', 'malformed', why);

/** Display form of a class: `Voice-Message`, as RFC 3842's examples write it (the grammar is case-insensitive). */
const display = (c: MessageContext) =>
  c
    .split('-')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('-');

/** A message-summary model → body text (CRLF lines); classes in RFC 3458 order, urgent counts shown when any. */
export function renderMessageSummary(s: MessageSummary): string {
  const lines = [`Messages-Waiting: ${s.waiting ? 'yes' : 'no'}`];
  if (s.account) lines.push(`Message-Account: ${s.account}`);
  const byClass = new Map(s.classes.map((c) => [c.context, c]));
  for (const context of MESSAGE_CONTEXTS) {
    const c = byClass.get(context);
    if (!c) continue;
    const urgent = c.urgentNew > 0 || c.urgentOld > 0 ? ` (${c.urgentNew}/${c.urgentOld})` : '';
    lines.push(`${display(context)}: ${c.newCount}/${c.oldCount}${urgent}`);
  }
  return lines.map((l) => `${l}\r\n`).join('');
}

const count = (raw: string | undefined, what: string): number => {
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n > MAX_COUNT) throw bad(`${what} ${raw} exceeds 2^32-1`);
  return n;
};

const SUMMARY_LINE = /^(\d{1,10})\s*\/\s*(\d{1,10})(?:\s*\(\s*(\d{1,10})\s*\/\s*(\d{1,10})\s*\))?$/;

/**
 * Body text → model. The status line must come first (RFC 3842 §5.2);
 * Message-Account and summary lines follow; extension headers after them
 * (opt-msg-headers, e.g. per-message details) are skipped. Anything else →
 * DecodeError naming the line.
 */
export function parseMessageSummary(text: string): MessageSummary {
  const lines = text.split(/\r?\n/);
  let waiting: boolean | undefined;
  let account: string | null = null;
  const classes = new Map<MessageContext, MessageClassCount>();
  let extensions = false;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trimEnd();
    if (line === '') {
      // The blank line before opt-msg-headers: what follows are extension headers.
      if (waiting !== undefined) extensions = true;
      continue;
    }
    const m = /^([A-Za-z0-9!%*_+`'~.-]+)[ \t]*:[ \t]*(.*)$/.exec(line);
    if (!m) {
      if (extensions || /^[ \t]/.test(line)) continue; // a folded extension header
      throw bad(`line ${i + 1} is not a header: ${JSON.stringify(line.slice(0, 60))}`);
    }
    const name = m[1]!.toLowerCase();
    const value = m[2]!.trim();
    if (waiting === undefined) {
      if (name !== 'messages-waiting') throw bad('the first line must be Messages-Waiting');
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') throw bad(`Messages-Waiting must be yes or no, not ${JSON.stringify(value)}`);
      waiting = v === 'yes';
      continue;
    }
    if (extensions) continue;
    if (name === 'message-account') {
      if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(value)) throw bad(`Message-Account must be a URI, not ${JSON.stringify(value)}`);
      account = value;
      continue;
    }
    if ((MESSAGE_CONTEXTS as readonly string[]).includes(name)) {
      const c = SUMMARY_LINE.exec(value);
      if (!c) throw bad(`${m[1]} must be new/old [(urgent-new/urgent-old)], not ${JSON.stringify(value)}`);
      const context = name as MessageContext;
      classes.set(context, {
        context,
        newCount: count(c[1], 'new'),
        oldCount: count(c[2], 'old'),
        urgentNew: count(c[3], 'urgent new'),
        urgentOld: count(c[4], 'urgent old'),
      });
      continue;
    }
    // Without the blank line some senders go straight to extension headers (RFC 3842 §5.2 is lenient on reading).
    extensions = true;
  }
  if (waiting === undefined) throw bad('empty body: Messages-Waiting is required');
  return { waiting, account, classes: MESSAGE_CONTEXTS.flatMap((c) => (classes.has(c) ? [classes.get(c)!] : [])) };
}

/** Two summaries say the same (a NOTIFY only on a change). */
export const sameSummary = (a: MessageSummary | null, b: MessageSummary | null): boolean =>
  (a === null ? null : renderMessageSummary(a)) === (b === null ? null : renderMessageSummary(b));

/** What a subscriber with no summary yet is told: nothing waits. */
export const NOTHING_WAITING: MessageSummary = { waiting: false, account: null, classes: [] };
