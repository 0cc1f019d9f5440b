// Builders and serialisation checked by parsing the bytes back with the
// decoder the taps use: what we send must be what a strict peer reads.
import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../decode/sip/index.ts';
import { buildRequest, buildResponse, buildResponseFrom } from './build.ts';
import { BRANCH_MAGIC_COOKIE, newBranch, newCallId, newTag } from './ids.ts';
import { serialize } from './serialize.ts';

const via = { transport: 'udp', host: '127.0.0.1', port: 5070, branch: 'z9hG4bKabc123' };
const pidf = '<?xml version="1.0"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.com"/>\n';

function notify() {
  return buildRequest(
    {
      method: 'NOTIFY',
      requestUri: 'sip:watcher@10.0.0.9:5060;transport=udp',
      from: { uri: 'sip:alice@example.com', tag: 'ft1', displayName: 'Alice "A" \\ Smith' },
      to: { uri: 'sip:watcher@example.com', tag: 'tt1' },
      callId: 'cid-1@127.0.0.1',
      cseq: 7,
      contact: 'sip:presence@127.0.0.1:5070',
      routeSet: ['sip:p1.example.com;lr', '<sip:p2.example.com;lr>'],
      headers: [
        ['Event', 'presence'],
        ['Subscription-State', 'active;expires=599'],
      ],
      body: pidf,
      contentType: 'application/pidf+xml',
    },
    via,
  );
}

describe('buildRequest + serialize', () => {
  it('round-trips through parseSipMessage with every field intact', () => {
    const bytes = serialize(notify());
    const m = parseSipMessage(bytes);
    expect(m.kind).toBe('request');
    expect(m.method).toBe('NOTIFY');
    expect(m.requestUri).toBe('sip:watcher@10.0.0.9:5060;transport=udp');
    expect(m.topVia).toMatchObject({ transport: 'UDP', host: '127.0.0.1', port: 5070, branch: 'z9hG4bKabc123', rport: null });
    expect(m.headers.get('max-forwards')).toBe('70');
    expect(m.headers.getAll('route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(m.from).toMatchObject({ uri: 'sip:alice@example.com', tag: 'ft1', displayName: 'Alice "A" \\ Smith' });
    expect(m.to).toMatchObject({ uri: 'sip:watcher@example.com', tag: 'tt1' });
    expect(m.callId).toBe('cid-1@127.0.0.1');
    expect(m.cseq).toEqual({ seq: 7, method: 'NOTIFY' });
    expect(m.contacts[0]?.uri).toBe('sip:presence@127.0.0.1:5070');
    expect(m.event?.package).toBe('presence');
    expect(m.subscriptionState).toMatchObject({ state: 'active', expires: 599 });
    expect(m.contentType?.mediaType).toBe('application/pidf+xml');
    expect(m.body.toString('utf8')).toBe(pidf);
    expect(m.contentLength).toBe(Buffer.byteLength(pidf));
    expect(m.byteLength).toBe(bytes.length);
  });

  it('computes Content-Length from the body in bytes, ignoring a caller-supplied one', () => {
    const body = 'Grüße ☎'; // multi-byte UTF-8: byte length ≠ string length
    const req = buildRequest(
      {
        method: 'MESSAGE',
        requestUri: 'sip:bob@example.com',
        from: { uri: 'sip:a@example.com', tag: 't' },
        to: { uri: 'sip:bob@example.com' },
        callId: 'c',
        cseq: 1,
        headers: [['Content-Length', '999']],
        body,
        contentType: 'text/plain;charset=utf-8',
      },
      via,
    );
    const text = serialize(req).toString('utf8');
    expect(text.match(/Content-Length/g)).toHaveLength(1);
    expect(text).toContain(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    expect(Buffer.byteLength(body)).not.toBe(body.length);
    expect(parseSipMessage(serialize(req)).body.toString()).toBe(body);
  });

  it('writes Content-Length: 0 and ends with an empty line when there is no body', () => {
    const text = serialize(
      buildRequest({ method: 'OPTIONS', requestUri: 'sip:x@y', from: { uri: 'sip:a@b', tag: 't' }, to: { uri: 'sip:x@y' }, callId: 'c', cseq: 1 }, via),
    ).toString();
    expect(text.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
    expect(text.startsWith('OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc123;rport\r\n')).toBe(true);
  });

  it('brackets IPv6 hosts in Via and refuses header values with line breaks', () => {
    const r = buildRequest(
      { method: 'OPTIONS', requestUri: 'sip:x@y', from: { uri: 'sip:a@b', tag: 't' }, to: { uri: 'sip:x@y' }, callId: 'c', cseq: 1 },
      { ...via, host: '::1', rport: false },
    );
    expect(parseSipMessage(serialize(r)).topVia).toMatchObject({ host: '::1', port: 5070 });
    expect(serialize(r).toString()).toContain('Via: SIP/2.0/UDP [::1]:5070;branch=z9hG4bKabc123\r\n');
    const evil = buildRequest(
      {
        method: 'OPTIONS',
        requestUri: 'sip:x@y',
        from: { uri: 'sip:a@b', tag: 't' },
        to: { uri: 'sip:x@y' },
        callId: 'c',
        cseq: 1,
        headers: [['Subject', 'hi\r\nVia: forged']],
      },
      via,
    );
    expect(() => serialize(evil)).toThrow(/line break/);
  });
});

describe('buildResponse', () => {
  const subscribe = parseSipMessage(
    Buffer.from(
      [
        'SUBSCRIBE sip:alice@example.com SIP/2.0',
        'Via: SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bKp1, SIP/2.0/UDP 10.1.1.1:5062;branch=z9hG4bKua1;received=192.0.2.4',
        'v: SIP/2.0/TCP 10.9.9.9;branch=z9hG4bKua0',
        'f: "Watcher" <sip:w@example.com>;tag=wt',
        't: <sip:alice@example.com>',
        'i: sub-1',
        'CSeq: 42 SUBSCRIBE',
        'Timestamp: 54.3',
        'Event: presence',
        'Expires: 3600',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  );

  it('copies Via lines in order, From, Call-ID and CSeq and adds a To-tag (§8.2.6)', () => {
    const res = buildResponse(subscribe, 200, { toTag: 'srv1', headers: [['Expires', '600']] });
    const m = parseSipMessage(serialize(res));
    expect(m.kind).toBe('response');
    expect(m.status).toBe(200);
    expect(m.reason).toBe('OK');
    expect(m.headers.getAll('via')).toEqual(subscribe.headers.getAll('via'));
    expect(m.vias.map((v) => v.branch)).toEqual(['z9hG4bKp1', 'z9hG4bKua1', 'z9hG4bKua0']);
    expect(m.from).toMatchObject({ uri: 'sip:w@example.com', tag: 'wt', displayName: 'Watcher' });
    expect(m.to).toMatchObject({ uri: 'sip:alice@example.com', tag: 'srv1' });
    expect(m.callId).toBe('sub-1');
    expect(m.cseq).toEqual({ seq: 42, method: 'SUBSCRIBE' });
    expect(m.method).toBe('SUBSCRIBE');
    expect(m.expires).toBe(600);
    expect(m.headers.has('timestamp')).toBe(false); // only a 100 echoes Timestamp
  });

  it('keeps an existing To-tag, adds none to 100 Trying and echoes Timestamp there', () => {
    const inDialog = parseSipMessage(serialize(notify()));
    expect(parseSipMessage(serialize(buildResponse(inDialog, 481))).to?.tag).toBe('tt1');
    const trying = parseSipMessage(serialize(buildResponse(subscribe, 100)));
    expect(trying.to?.tag).toBeUndefined();
    expect(trying.headers.get('timestamp')).toBe('54.3');
    expect(trying.reason).toBe('Trying');
  });

  it('generates a random To-tag, uses the table reason phrase or the caller’s, and carries a body', () => {
    const a = parseSipMessage(serialize(buildResponse(subscribe, 489)));
    const b = parseSipMessage(serialize(buildResponse(subscribe, 489)));
    expect(a.reason).toBe('Bad Event');
    expect(a.to?.tag).toMatch(/^[0-9a-f]{16}$/);
    expect(a.to?.tag).not.toBe(b.to?.tag);
    const c = parseSipMessage(serialize(buildResponse(subscribe, 299, { reason: 'Custom Thing', body: 'x=1', contentType: 'text/plain' })));
    expect(c.reason).toBe('Custom Thing');
    expect(c.body.toString()).toBe('x=1');
    expect(parseSipMessage(serialize(buildResponse(subscribe, 499))).reason).toBe('Bad Request'); // class default
  });

  it('refuses out-of-range statuses and responses to responses', () => {
    expect(() => buildResponse(subscribe, 99)).toThrow(RangeError);
    expect(() => buildResponse(subscribe, 700)).toThrow(RangeError);
    const res = parseSipMessage(serialize(buildResponse(subscribe, 200)));
    expect(() => buildResponse(res, 200)).toThrow(TypeError);
    expect(
      buildResponseFrom({ vias: ['SIP/2.0/UDP h;branch=z9hG4bKx'], from: '<sip:a@b>;tag=1', to: 'sip:c@d', callId: 'x', cseq: '1 PUBLISH' }, 400).headers,
    ).toContainEqual(['To', expect.stringMatching(/^sip:c@d;tag=[0-9a-f]+$/)]);
  });
});

describe('identifiers', () => {
  it('branches carry the magic cookie, are tokens and do not repeat; tags and Call-IDs are random', () => {
    const branches = new Set(Array.from({ length: 1000 }, newBranch));
    expect(branches.size).toBe(1000);
    for (const b of branches) expect(b).toMatch(new RegExp(`^${BRANCH_MAGIC_COOKIE}[A-Za-z0-9_-]{16}$`));
    expect(new Set(Array.from({ length: 1000 }, newTag)).size).toBe(1000);
    expect(newCallId('127.0.0.1')).toMatch(/^[0-9a-f]{32}@127\.0\.0\.1$/);
    expect(newCallId()).not.toBe(newCallId());
  });
});
