// The benchmark's watchers as a small UDP user agent in Node, not SIPp.
// SIPp 3.6.1 cannot do what RFC 6665 §4.1.2.4 allows: when a NOTIFY arrives
// before the 200 to a SUBSCRIBE that SIPp is still retransmitting, the
// scenario's answer to it never goes out (the call jumps to the answer but
// SIPp keeps retransmitting the SUBSCRIBE instead, and takes the late 200 as
// unexpected), and the setdest that answers the NOTIFY at its Via also sends
// those retransmissions to the notifier. Our edge does answer that race
// (the NOTIFY leaves the sink while the front end's 200 is on its way), so
// SIPp watchers would count SIPp's failure as ours.
//
// One dialog per watcher: SUBSCRIBE at the offered rate, retransmitted as
// RFC 3261 Timer E does (500 ms doubling to 4 s, at most 10 times); every
// NOTIFY, before or after the 200, answered 200 at the address in its top Via
// (§18.2.2); a dialog ends when no NOTIFY came for `quietMs`. Everything sent
// and received while a dialog lives goes into a log in SIPp's -trace_msg
// format, so measure.ts reads both kinds of peer alike.
import { createSocket } from 'node:dgram';
import { DOMAIN, HARNESS_UDP_BUFFER_BYTES } from './scenarios.ts';

interface Dialog {
  readonly callId: string;
  readonly request: Buffer;
  answered: boolean;
  retransmissions: number;
  timer?: NodeJS.Timeout;
  quiet?: NodeJS.Timeout;
  ended: boolean;
}

const T1 = 500;
const T2 = 4000;
const MAX_RETRANSMISSIONS = 10;

/** SIPp's trace timestamp: local time with microseconds. */
function traceTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

const headerLines = (head: string, name: RegExp) => head.split('\r\n').filter((l) => name.test(l));

/** Runs the watchers of `rows` (presentity user, watcher number) against host:port; resolves with the trace once every dialog ended. */
export async function runNodeWatchers(o: {
  host: string;
  port: number;
  rows: ReadonlyArray<readonly [string, number]>;
  rate: number;
  quietMs: number;
  deadlineMs: number;
}): Promise<Buffer> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: HARNESS_UDP_BUFFER_BYTES, sendBufferSize: HARNESS_UDP_BUFFER_BYTES });
  await new Promise<void>((r) => socket.bind(0, o.host, r));
  const local = `${o.host}:${socket.address().port}`;
  const trace: Buffer[] = [];
  const record = (direction: 'received' | 'sent', bytes: Buffer) =>
    trace.push(
      Buffer.from(
        `----------------------------------------------- ${traceTime(Date.now())}\nUDP message ${direction === 'received' ? `received [${bytes.length}] bytes :` : `sent (${bytes.length} bytes):`}\n\n`,
      ),
      bytes,
      Buffer.from('\n\n'),
    );
  const dialogs = new Map<string, Dialog>();
  let open = o.rows.length;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const end = (d: Dialog) => {
    if (d.ended) return;
    d.ended = true;
    clearTimeout(d.timer);
    clearTimeout(d.quiet);
    if (--open === 0) finish();
  };
  const quiet = (d: Dialog) => {
    clearTimeout(d.quiet);
    d.quiet = setTimeout(() => end(d), o.quietMs);
  };
  const send = (bytes: Buffer, port: number, host: string) => {
    record('sent', bytes);
    socket.send(bytes, port, host);
  };
  const retransmit = (d: Dialog, interval: number) => {
    d.timer = setTimeout(() => {
      if (d.answered || d.ended) return;
      if (d.retransmissions === MAX_RETRANSMISSIONS) return end(d); // Timer F: the SUBSCRIBE failed
      d.retransmissions++;
      send(d.request, o.port, o.host);
      retransmit(d, Math.min(interval * 2, T2));
    }, interval);
  };

  socket.on('message', (bytes) => {
    const text = bytes.toString('latin1');
    const head = text.slice(0, Math.max(0, text.indexOf('\r\n\r\n')));
    const callId = /^(?:Call-ID|i)\s*:\s*(.+)$/im.exec(head)?.[1]?.trim() ?? '';
    const d = dialogs.get(callId);
    if (!d || d.ended) return; // a dialog that left no longer answers, as a finished SIPp call
    record('received', bytes);
    if (head.startsWith('SIP/2.0 ')) {
      if (Number(head.slice(8, 11)) >= 200 && /^CSeq\s*:.*SUBSCRIBE/im.test(head)) {
        d.answered = true;
        clearTimeout(d.timer);
        if (Number(head.slice(8, 11)) >= 300) end(d);
      }
      return;
    }
    if (!head.startsWith('NOTIFY ')) return;
    const vias = headerLines(head, /^(Via|v)\s*:/i);
    const sentBy = /SIP\/2\.0\/UDP\s+([^\s:;,]+)(?::(\d+))?/i.exec(vias[0] ?? '');
    if (!sentBy) return;
    const copied = [...vias, ...headerLines(head, /^(From|f|To|t|Call-ID|i|CSeq)\s*:/i)];
    send(Buffer.from(`SIP/2.0 200 OK\r\n${copied.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`), Number(sentBy[2] ?? 5060), sentBy[1]!);
    quiet(d);
  });

  const t0 = Date.now();
  const deadline = setTimeout(() => {
    for (const d of dialogs.values()) end(d);
  }, o.deadlineMs);
  for (const [i, [user, watcher]] of o.rows.entries()) {
    const due = t0 + (i * 1000) / o.rate;
    if (due > Date.now() + 2) await new Promise((r) => setTimeout(r, due - Date.now()));
    const callId = `${i + 1}-${process.pid}@${o.host}`;
    const request = Buffer.from(
      [
        `SUBSCRIBE sip:${user}@${DOMAIN} SIP/2.0`,
        `Via: SIP/2.0/UDP ${local};branch=z9hG4bK-w${i + 1}-${process.pid}`,
        `From: <sip:w${watcher}@${DOMAIN}>;tag=w${i + 1}`,
        `To: <sip:${user}@${DOMAIN}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 SUBSCRIBE',
        `Contact: <sip:w${watcher}@${local}>`,
        'Max-Forwards: 70',
        'Event: presence',
        'Accept: application/pidf+xml',
        'Expires: 3600',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const d: Dialog = { callId, request, answered: false, retransmissions: 0, ended: false };
    dialogs.set(callId, d);
    send(request, o.port, o.host);
    retransmit(d, T1);
    quiet(d);
  }
  await finished;
  clearTimeout(deadline);
  await new Promise<void>((r) => socket.close(() => r()));
  return Buffer.concat(trace);
}
