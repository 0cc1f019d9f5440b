// Bytes from a hex string, spaces and colons ignored: hex('04 02 aa:bb').
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s:]/g, ''), 'hex');
}
