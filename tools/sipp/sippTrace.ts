// Reads SIPp's message trace (-trace_msg, see SippRun.traceMessages): what a
// SIPp peer really received and sent, byte for byte, so an interop test can
// assert on the wire messages rather than only on SIPp's pass/fail. Parsed
// here with a deliberately small parser of its own (start line, header lines,
// Content-Length body), independent of the gateway's SIP parser it checks.
//
// SIPp writes each message as
//   ----------------------------------------------- 2026-11-25 16:29:04.995645
//   UDP message received [249] bytes :
//   <blank line>
//   <the 249 bytes>
// ("message sent (N bytes):" for sent ones); N counts bytes, so the log is
// read as bytes and each message cut by its length.

export interface TracedMessage {
  readonly direction: 'received' | 'sent';
  /** As SIPp names it: UDP, TCP, TLS, SCTP. */
  readonly transport: string;
  /** SIPp's timestamp line, e.g. 2026-11-25 16:29:04.995645 (local time). */
  readonly time: string;
  /** The message as on the wire. */
  readonly raw: Buffer;
  /** `NOTIFY sip:… SIP/2.0` or `SIP/2.0 200 OK`. */
  readonly startLine: string;
  /** In order, names as written. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The body (Content-Length bytes after the blank line), UTF-8. */
  readonly body: string;
}

const ENTRY = /^-{10,} (\S+ \S+)\n(\w+) message (received|sent) (?:\[(\d+)\] bytes :|\((\d+) bytes\):)\n\n/gm;

/** Every message in a SIPp -trace_msg log, in log order. Throws on a log it cannot follow (a truncated message). */
export function parseSippMessageTrace(log: Buffer): TracedMessage[] {
  // latin1 keeps one character per byte, so string offsets are byte offsets.
  const text = log.toString('latin1');
  const out: TracedMessage[] = [];
  const entry = new RegExp(ENTRY.source, 'gm');
  for (let m = entry.exec(text); m; m = entry.exec(text)) {
    const length = Number(m[4] ?? m[5]);
    const start = m.index + m[0].length;
    if (start + length > log.length) throw new Error(`SIPp message trace truncated: a ${length}-byte message at byte ${start} of ${log.length}`);
    out.push(parseMessage(log.subarray(start, start + length), m[3] as 'received' | 'sent', m[2]!, m[1]!));
    entry.lastIndex = start + length; // the next entry starts after the message, whatever its body contains
  }
  return out;
}

function parseMessage(raw: Buffer, direction: 'received' | 'sent', transport: string, time: string): TracedMessage {
  const text = raw.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [startLine = '', ...lines] = head.split('\r\n');
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1]![1] += ` ${line.trim()}`; // folded continuation
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  const msg = { direction, transport, time, raw, startLine, headers, body: '' };
  const declared = headerOf(msg, 'Content-Length', 'l');
  const bodyBytes = end < 0 ? Buffer.alloc(0) : raw.subarray(Buffer.byteLength(text.slice(0, end + 4)));
  const body = declared === undefined ? bodyBytes : bodyBytes.subarray(0, Number(declared));
  return { ...msg, body: body.toString('utf8') };
}

/** The first value of a header, by name or compact form, case-insensitively. */
export function headerOf(m: Pick<TracedMessage, 'headers'>, name: string, compact?: string): string | undefined {
  const names = [name.toLowerCase(), ...(compact ? [compact.toLowerCase()] : [])];
  return m.headers.find(([n]) => names.includes(n.toLowerCase()))?.[1];
}

/** The received requests of a method, one per transaction: retransmissions (same Call-ID, CSeq and Via branch) are dropped. */
export function receivedRequests(messages: readonly TracedMessage[], method: string): TracedMessage[] {
  const seen = new Set<string>();
  return messages.filter((m) => {
    if (m.direction !== 'received' || !m.startLine.startsWith(`${method} `)) return false;
    const branch = /;\s*branch=([^;,\s]+)/i.exec(headerOf(m, 'Via', 'v') ?? '')?.[1];
    const key = `${headerOf(m, 'Call-ID', 'i')}\u0000${headerOf(m, 'CSeq')}\u0000${branch}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
