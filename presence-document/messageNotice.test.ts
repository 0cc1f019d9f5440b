// The Event: message NOTIFY body: origin and fetch location survive a round
// trip, a header value cannot forge another header, and missing fields are refused.
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../protocols/decode/layer.ts';
import { parseMessageNotice, renderMessageNotice, type MessageNotice } from './messageNotice.ts';

const voiceMail: MessageNotice = {
  messageId: 'vm-4711',
  contentType: 'audio/wav',
  origin: 'tel:+441632960001',
  contact: 'https://vm.example.net/m/4711',
  context: 'voice-message',
  receivedAt: Date.UTC(2026, 11, 6, 23, 59, 6),
  subject: 'call me back',
};

describe('message notices (Event: message bodies)', () => {
  it('renders the documented header block and reads it back', () => {
    const body = renderMessageNotice(voiceMail);
    expect(body).toBe(
      'Message-Id: vm-4711\r\nFrom: <tel:+441632960001>\r\nContact: <https://vm.example.net/m/4711>\r\nMessage-Context: voice-message\r\nDate: Sun, 06 Dec 2026 23:59:06 GMT\r\nSubject: call me back\r\n',
    );
    expect(parseMessageNotice(body, 'audio/wav')).toEqual(voiceMail);
  });

  it('leaves out an unknown Contact and Subject; a CR/LF in a value cannot add a header', () => {
    const sms = { ...voiceMail, contentType: 'text/plain', contact: null, context: 'text-message' as const, subject: 'x\r\nContact: <evil>' };
    const body = renderMessageNotice(sms);
    expect(body.split('\r\n').filter((l) => l.startsWith('Contact'))).toEqual([]);
    expect(parseMessageNotice(body, 'text/plain')).toEqual({ ...sms, subject: 'x Contact: <evil>' });
  });

  it('refuses a body without Message-Id, From or Date', () => {
    expect(() => parseMessageNotice('From: <sip:a@b>\r\n', 'text/plain')).toThrow(DecodeError);
  });
});
