// A flood's requests: SUBSCRIBEs each with a random Call-ID (so each is a new
// transaction and a new dialog), for the flood test and bench.
export function floodSubscribe(port: number, i: number, host = '127.0.0.1'): Buffer {
  const callId = `${Math.random().toString(36).slice(2)}-${i}`;
  return Buffer.from(
    `SUBSCRIBE sip:user${i % 1000}@example.com SIP/2.0\r\nVia: SIP/2.0/UDP ${host}:${port};branch=z9hG4bK${callId}\r\n` +
      `From: <sip:flood@example.com>;tag=${callId}\r\nTo: <sip:user${i % 1000}@example.com>\r\nCall-ID: ${callId}\r\nCSeq: 1 SUBSCRIBE\r\n` +
      `Contact: <sip:flood@${host}:${port}>\r\nMax-Forwards: 70\r\nEvent: presence\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n`,
  );
}
