// RFC 3842 §5.2 message-summary bodies: the RFC's own examples read, our bodies
// read back the same, and what the grammar forbids is refused with a reason.
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../protocols/decode/layer.ts';
import { parseMessageSummary, renderMessageSummary, sameSummary, type MessageSummary } from './messageSummary.ts';

describe('message-summary bodies (RFC 3842)', () => {
  it('reads the RFC 3842 §5.2 example, account and urgent counts included', () => {
    const s = parseMessageSummary('Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\n');
    expect(s).toEqual({
      waiting: true,
      account: 'sip:alice@vmail.example.com',
      classes: [{ context: 'voice-message', newCount: 2, oldCount: 8, urgentNew: 0, urgentOld: 2 }],
    });
  });

  it('reads the §6 example with extension headers after the blank line, and is case-insensitive', () => {
    const body = [
      'messages-waiting: YES',
      'Message-Account: sip:alice@vmail.example.com',
      'voice-message: 4/8 (1/2)',
      'Fax-Message: 1/0',
      '',
      'To: <alice@atlanta.example.com>',
      'From: <bob@biloxi.example.com>',
      'Subject: carpool tomorrow?',
      'Priority: normal',
      'Message-ID: 13579@mail.example.com',
      '',
    ].join('\r\n');
    const s = parseMessageSummary(body);
    expect(s.waiting).toBe(true);
    expect(s.classes.map((c) => [c.context, c.newCount, c.oldCount, c.urgentNew, c.urgentOld])).toEqual([
      ['voice-message', 4, 8, 1, 2],
      ['fax-message', 1, 0, 0, 0],
    ]);
  });

  it('renders in RFC 3458 class order with CRLFs, urgent counts only when any, and reads back equal', () => {
    const s: MessageSummary = {
      waiting: true,
      account: 'sip:+441632960001@vm.example.net',
      classes: [
        { context: 'text-message', newCount: 1, oldCount: 0, urgentNew: 0, urgentOld: 0 },
        { context: 'voice-message', newCount: 3, oldCount: 5, urgentNew: 1, urgentOld: 0 },
      ],
    };
    const body = renderMessageSummary(s);
    expect(body).toBe('Messages-Waiting: yes\r\nMessage-Account: sip:+441632960001@vm.example.net\r\nVoice-Message: 3/5 (1/0)\r\nText-Message: 1/0\r\n');
    const back = parseMessageSummary(body);
    expect(sameSummary(back, s)).toBe(true);
    expect(renderMessageSummary(back)).toBe(body);
    expect(renderMessageSummary({ waiting: false, account: null, classes: [] })).toBe('Messages-Waiting: no\r\n');
  });

  it.each([
    ['', 'Messages-Waiting is required'],
    ['Voice-Message: 1/0\r\nMessages-Waiting: yes\r\n', 'first line must be Messages-Waiting'],
    ['Messages-Waiting: maybe\r\n', 'yes or no'],
    ['Messages-Waiting: yes\r\nVoice-Message: 1\r\n', 'new/old'],
    ['Messages-Waiting: yes\r\nVoice-Message: 4294967296/0\r\n', 'exceeds 2^32-1'],
    ['Messages-Waiting: yes\r\nMessage-Account: not a uri\r\n', 'must be a URI'],
    ['Messages-Waiting: yes\r\n<xml/>\r\n', 'not a header'],
  ])('refuses %j (%s)', (body, why) => {
    expect(() => parseMessageSummary(body)).toThrow(DecodeError);
    expect(() => parseMessageSummary(body)).toThrow(why);
  });
});
