// Hand-typed RFC 4475 torture-test messages (valid ones must parse with the
// values the RFC describes; invalid ones must raise the right DecodeError)
// plus hand-built compact-form and presence messages (RFC 3903/6665 style).
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../layer.ts';
import { looksLikeSip } from './detect.ts';
import { parseSipMessage } from './message.ts';

const CRLF = '\r\n';
function wire(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF + body, 'utf8');
}

function reasonOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return `${(e as DecodeError).layer}.${(e as DecodeError).reason}`;
  }
  return 'ok';
}

const wsinvBody = [
  'v=0',
  'o=mhandley 29739 7272939 IN IP4 192.0.2.3',
  's=-',
  'c=IN IP4 192.0.2.4',
  't=0 0',
  'm=audio 49217 RTP/AVP 0 12',
  'm=video 3227 RTP/AVP 31',
  'a=rtpmap:31 LPC',
  '',
].join(CRLF);

// RFC 4475 §3.1.1.1 "wsinv": A Short Tortuous INVITE
const wsinv = wire(
  [
    'INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0',
    'TO :',
    ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
    'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
    '  ;',
    '  tag = 98asjd8',
    'MaX-fOrWaRdS: 0068',
    'Call-ID: wsinv.ndaksdj@192.0.2.1',
    'Content-Length   : 150',
    'cseq: 0009',
    '  INVITE',
    'Via  : SIP  /   2.0',
    ' /UDP',
    '    192.0.2.2;branch=390skdjuw',
    's :',
    'NewFangledHeader:   newfangled value',
    ' continued newfangled value',
    'UnknownHeaderWithUnusualValue: ;;,,;;,;',
    'Content-Type: application/sdp',
    'Route:',
    ' <sip:services.example.com;lr;unknownwith=value;unknown-no-value>',
    'v:  SIP  / 2.0  / TCP     spindle.example.com   ;',
    '  branch  =   z9hG4bK9ikj8  ,',
    ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
    ' z9hG4bK30239',
    'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
    '      newvalue ;',
    '  secondparam ; q = 0.33',
  ],
  wsinvBody,
);

describe('RFC 4475 valid messages', () => {
  it('3.1.1.1 wsinv: folding, odd spacing, compact forms, escaped quotes', () => {
    expect(wsinvBody.length).toBe(150); // the RFC's Content-Length, counted independently
    expect(looksLikeSip(wsinv)).toBe(true);
    const m = parseSipMessage(wsinv);
    expect(m.kind).toBe('request');
    expect(m.method).toBe('INVITE');
    expect(m.requestUri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    expect(m.callId).toBe('wsinv.ndaksdj@192.0.2.1');
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.to?.uri).toBe('sip:vivekg@chair-dnrc.example.com');
    expect(m.to?.tag).toBe('1918181833n');
    expect(m.from?.displayName).toBe('J Rosenberg \\"');
    expect(m.from?.uri).toBe('sip:jdrosen@example.com');
    expect(m.from?.tag).toBe('98asjd8');
    expect(m.headers.get('max-forwards')).toBe('0068');
    expect(m.headers.get('subject')).toBe('');
    expect(m.headers.get('newfangledheader')).toBe('newfangled value continued newfangled value');
    expect(m.vias.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.contacts).toHaveLength(1);
    expect(m.contacts[0]!.displayName).toBe('Quoted string ""');
    expect(m.contacts[0]!.q).toBe(0.33);
    expect(m.contacts[0]!.params['newparam']).toBe('newvalue');
    expect('secondparam' in m.contacts[0]!.params).toBe(true);
    expect(m.contentType?.mediaType).toBe('application/sdp');
    expect(m.body.toString()).toBe(wsinvBody);
  });

  it('3.1.1.2 intmeth: extension method and unusual token characters', () => {
    const method = "!interesting-Method0123456789_*+`.%indeed'~";
    const buf = wire([
      `${method} sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0`,
      "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
      'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>',
      "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439\";tag=_token~1'+`*%!-.",
      'Call-ID: intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{',
      `CSeq: 139122385 ${method}`,
      'Max-Forwards: 255',
      "extensionHeader-!.%*+_`'~:\ufeff\u5927\u505c\u96fb",
      'Content-Length: 0',
    ]);
    expect(looksLikeSip(buf)).toBe(true);
    const m = parseSipMessage(buf);
    expect(m.method).toBe(method);
    expect(m.cseq.seq).toBe(139122385);
    expect(m.callId).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(m.from?.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.from?.tag).toBe("_token~1'+`*%!-.");
    expect(m.from?.params["fromparam''~+*_!.-%"]).toBe('\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439');
    expect(m.to?.uri).toBe("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
    expect(m.topVia?.branch).toBe("z9hG4bK-.!%66*_+`'~");
    expect(m.headers.get("extensionheader-!.%*+_`'~")).toBe('\ufeff\u5927\u505c\u96fb');
    expect(m.body.length).toBe(0);
  });

  it('3.1.1.11-style unknown scheme and 3.1.1.? novel scheme Request-URIs are accepted', () => {
    for (const ruri of ['nobodyKnowsThisScheme:totally-bogus-stuff', 'soap.beep://192.0.2.103:3002']) {
      const m = parseSipMessage(
        wire([
          `OPTIONS ${ruri} SIP/2.0`,
          'To: sip:user@example.com',
          'From: sip:caller@example.net;tag=384',
          'Max-Forwards: 3',
          'Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34',
          'CSeq: 3923423 OPTIONS',
          'Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234',
          'Content-Length: 0',
        ]),
      );
      expect(m.requestUri).toBe(ruri);
      expect(m.parsedRequestUri?.scheme).toBe(ruri.slice(0, ruri.indexOf(':')).toLowerCase());
    }
  });

  it('3.1.1.9 semiuri: ";" in the user part stays in the user', () => {
    const m = parseSipMessage(
      wire([
        'OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0',
        'To: sip:j_user@example.com',
        'From: sip:caller@example.org;tag=33242',
        'Max-Forwards: 3',
        'Call-ID: semiuri.0ha0isndaksdj',
        'CSeq: 8 OPTIONS',
        'Accept: application/sdp, application/pkcs7-mime,',
        '        multipart/mixed, multipart/signed,',
        '        message/sip, message/sipfrag',
        'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw',
        'l: 0',
      ]),
    );
    expect(m.parsedRequestUri?.user).toBe('user;par=u@example.net');
    expect(m.parsedRequestUri?.host).toBe('example.com');
    expect(m.headers.list('accept')).toHaveLength(6);
    expect(m.contentLength).toBe(0);
  });

  it('3.1.1.12 noreason: status line without reason phrase', () => {
    for (const line of ['SIP/2.0 100 ', 'SIP/2.0 100']) {
      const m = parseSipMessage(
        wire([
          line,
          'Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe',
          'Call-ID: noreason.asndj203insdf99223ndf',
          'CSeq: 35 INVITE',
          'From: <sip:user@example.com>;tag=39ansfi3',
          'To: <sip:user@example.edu>;tag=902jndnke3',
          'Content-Length: 0',
        ]),
      );
      expect(m.status).toBe(100);
      expect(m.reason).toBe('');
      expect(m.method).toBe('INVITE'); // responses carry CSeq's method
    }
  });

  it('3.1.1.13 unreason: UTF-8 reason phrase kept', () => {
    const reason =
      '= 2**3 * 5**2 \u043d\u043e \u0441\u0442\u043e \u0434\u0435\u0432\u044f\u043d\u043e\u0441\u0442\u043e \u0434\u0435\u0432\u044f\u0442\u044c - \u043f\u0440\u043e\u0441\u0442\u043e\u0435';
    const m = parseSipMessage(
      wire([
        `SIP/2.0 200 ${reason}`,
        'Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923',
        'Call-ID: unreason.1234ksdfak3j2erwedfsASdf',
        'CSeq: 35 INVITE',
        'From: sip:user@example.com;tag=11141343',
        'To: sip:user@example.edu;tag=2229',
        'Content-Length: 0',
      ]),
    );
    expect(m.reason).toBe(reason);
  });
});

describe('RFC 4475 invalid messages', () => {
  const common = [
    'To: sip:t.watson@example.org',
    'From: Watson <sip:w.watson@example.net>;tag=oijkd',
    'Call-ID: x.1@example',
    'Max-Forwards: 70',
    'Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK7',
  ];

  it('3.1.2.? badvers: SIP/7.0 is unsupported', () => {
    expect(reasonOf(() => parseSipMessage(wire(['OPTIONS sip:t.watson@example.org SIP/7.0', ...common, 'CSeq: 1 OPTIONS', 'l: 0'])))).toBe('sip.unsupported');
  });
  it('3.1.2.? clerr-style: Content-Length larger than the datagram is truncated', () => {
    expect(reasonOf(() => parseSipMessage(wire(['INVITE sip:user@example.com SIP/2.0', ...common, 'CSeq: 1 INVITE', 'Content-Length: 9999'], 'v=0\r\n')))).toBe(
      'sip.truncated',
    );
  });
  it('3.1.2.? ncl: negative Content-Length is malformed', () => {
    expect(reasonOf(() => parseSipMessage(wire(['INVITE sip:user@example.com SIP/2.0', ...common, 'CSeq: 1 INVITE', 'Content-Length: -999'])))).toBe(
      'sip.malformed',
    );
  });
  it('3.1.2.? scalar02: CSeq beyond 32 bits is malformed', () => {
    expect(reasonOf(() => parseSipMessage(wire(['REGISTER sip:example.com SIP/2.0', ...common, 'CSeq: 36893488147419103232 REGISTER', 'l: 0'])))).toBe(
      'sip.malformed',
    );
  });
  it('3.1.2.? lwsruri / lwsstart / trws: extra whitespace in the Request-Line', () => {
    for (const line of [
      'INVITE sip:user@example.com; lr SIP/2.0',
      'INVITE  sip:user@example.com  SIP/2.0',
      'OPTIONS sip:remote-target@example.com SIP/2.0  ',
    ]) {
      expect(reasonOf(() => parseSipMessage(wire([line, ...common, `CSeq: 1 ${line.split(' ')[0]}`, 'l: 0'])))).toBe('sip.malformed');
    }
  });
  it('3.1.2.? insuf: missing Call-ID / From / To / CSeq', () => {
    expect(
      reasonOf(() =>
        parseSipMessage(wire(['INVITE sip:user@example.com SIP/2.0', 'CSeq: 193942 INVITE', 'Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf', 'l: 0'])),
      ),
    ).toBe('sip.malformed');
  });
  it('3.1.2.? mismatch01: CSeq method differs from the request method', () => {
    expect(reasonOf(() => parseSipMessage(wire(['OPTIONS sip:user@example.com SIP/2.0', ...common, 'CSeq: 1 INVITE', 'l: 0'])))).toBe('sip.malformed');
  });
  it('no empty line after the headers is truncated; header without colon malformed', () => {
    expect(reasonOf(() => parseSipMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n')))).toBe('sip.truncated');
    expect(reasonOf(() => parseSipMessage(wire(['OPTIONS sip:a@b SIP/2.0', 'garbage line', ...common, 'CSeq: 1 OPTIONS'])))).toBe('sip.malformed');
  });
});

describe('presence headers and compact forms (hand-built)', () => {
  it('NOTIFY with compact forms, Subscription-State, multi-line Contact, Allow-Events', () => {
    const body = '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@example.com"/>';
    const m = parseSipMessage(
      wire(
        [
          'NOTIFY sip:alice@pc33.example.com SIP/2.0',
          'v: SIP/2.0/TCP server.example.com;branch=z9hG4bKna998sk;rport;received=192.0.2.9',
          'f: <sip:bob@example.com>;tag=ffd2',
          't: "Alice" <sip:alice@example.com>;tag=xfg9',
          'i: 2010@pc33.example.com',
          'CSeq: 8 NOTIFY',
          'o: presence;id=qwerty',
          'Subscription-State: active;expires=599',
          'm: <sip:bob@192.0.2.4>;expires=3600, "Bob Mobile" <sip:bob@198.51.100.7;transport=tcp>;q=0.5',
          'M: <sip:bob@203.0.113.1>',
          'u: presence, message-summary',
          'k: eventlist, 100rel',
          'Require: eventlist',
          'c: application/pidf+xml;charset="UTF-8"',
          `l: ${Buffer.byteLength(body)}`,
        ],
        body + 'trailing-bytes-not-in-content-length',
      ),
    );
    expect(m.method).toBe('NOTIFY');
    expect(m.callId).toBe('2010@pc33.example.com');
    expect(m.headers.get('I')).toBe('2010@pc33.example.com'); // lookups accept compact names too
    expect(m.headers.getAll('Contact')).toHaveLength(2);
    expect(m.event).toEqual({ type: 'presence', package: 'presence', templates: [], id: 'qwerty', params: { id: 'qwerty' } });
    expect(m.subscriptionState).toMatchObject({ state: 'active', expires: 599 });
    expect(m.contacts.map((c) => [c.uri, c.expires, c.q])).toEqual([
      ['sip:bob@192.0.2.4', 3600, undefined],
      ['sip:bob@198.51.100.7;transport=tcp', undefined, 0.5],
      ['sip:bob@203.0.113.1', undefined, undefined],
    ]);
    expect(m.to?.displayName).toBe('Alice');
    expect(m.topVia).toMatchObject({ transport: 'TCP', host: 'server.example.com', branch: 'z9hG4bKna998sk', received: '192.0.2.9', rport: null });
    expect(m.allowEvents).toEqual(['presence', 'message-summary']);
    expect(m.supported).toEqual(['eventlist', '100rel']);
    expect(m.require).toEqual(['eventlist']);
    expect(m.contentType).toMatchObject({ mediaType: 'application/pidf+xml', params: { charset: 'UTF-8' } });
    expect(m.body.toString()).toBe(body);
  });

  it('terminated subscription, PUBLISH ETag / If-Match, REGISTER Contact: *, 423 Min-Expires, Retry-After', () => {
    const base = ['Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@example.com>;tag=1', 'To: <sip:a@example.com>', 'Call-ID: c1'];
    const n = parseSipMessage(
      wire([
        'NOTIFY sip:a@h SIP/2.0',
        ...base,
        'CSeq: 2 NOTIFY',
        'Event: presence.winfo',
        'Subscription-State: terminated;reason=timeout;retry-after=30',
        'l: 0',
      ]),
    );
    expect(n.subscriptionState).toMatchObject({ state: 'terminated', reason: 'timeout', retryAfter: 30 });
    expect(n.event).toMatchObject({ package: 'presence', templates: ['winfo'], type: 'presence.winfo' });
    const p = parseSipMessage(
      wire(['PUBLISH sip:a@example.com SIP/2.0', ...base, 'CSeq: 3 PUBLISH', 'Event: presence', 'Expires: 3600', 'SIP-If-Match: dx200xyz', 'l: 0']),
    );
    expect(p.sipIfMatch).toBe('dx200xyz');
    expect(p.expires).toBe(3600);
    const ok = parseSipMessage(wire(['SIP/2.0 200 OK', ...base, 'CSeq: 3 PUBLISH', 'SIP-ETag: kwj449x', 'Expires: 1800', 'l: 0']));
    expect(ok.sipETag).toBe('kwj449x');
    const r = parseSipMessage(wire(['REGISTER sip:example.com SIP/2.0', ...base, 'CSeq: 4 REGISTER', 'Contact: *', 'Expires: 0', 'l: 0']));
    expect(r.contactWildcard).toBe(true);
    expect(r.contacts).toEqual([]);
    const brief = parseSipMessage(
      wire(['SIP/2.0 423 Interval Too Brief', ...base, 'CSeq: 4 REGISTER', 'Min-Expires: 600', 'Retry-After: 18000;duration=3600', 'l: 0']),
    );
    expect(brief.minExpires).toBe(600);
    expect(brief.retryAfter).toBe(18000);
  });

  it('bare-LF line endings are tolerated; leading CRLF keep-alive skipped', () => {
    const m = parseSipMessage(
      Buffer.from(
        '\r\nOPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:x@y>;tag=1\nTo: <sip:a@b>\nCall-ID: lf1\nCSeq: 1 OPTIONS\nContent-Length: 2\n\nhi',
      ),
    );
    expect(m.callId).toBe('lf1');
    expect(m.body.toString()).toBe('hi');
  });
});

describe('looksLikeSip', () => {
  it('recognises requests and responses, rejects other protocols', () => {
    expect(looksLikeSip(Buffer.from('SIP/2.0 180 Ringing\r\n'))).toBe(true);
    expect(looksLikeSip(Buffer.from('sip/2.0 200 OK\r\n'))).toBe(true);
    expect(looksLikeSip(Buffer.from('MESSAGE sip:kumiko@example.org SIP/2.0\r\n'))).toBe(true);
    expect(looksLikeSip(Buffer.from('NEWMETHOD tel:+15551234567 SIP/2.0\r\n'))).toBe(true);
    expect(looksLikeSip(Buffer.from('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(false);
    expect(looksLikeSip(Buffer.from('HTTP/1.1 101 Switching Protocols\r\n'))).toBe(false);
    expect(looksLikeSip(Buffer.from('SIP/2.0 99 Odd\r\n'))).toBe(false);
    expect(looksLikeSip(Buffer.from([0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b]))).toBe(false);
    expect(looksLikeSip(Buffer.from('\r\n\r\n'))).toBe(false);
  });
});
