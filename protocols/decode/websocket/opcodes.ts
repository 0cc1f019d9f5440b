// RFC 6455 §5.2 / §11.8 WebSocket opcodes as data.
export const WS_OPCODES = {
  0x0: 'continuation',
  0x1: 'text',
  0x2: 'binary',
  0x8: 'close',
  0x9: 'ping',
  0xa: 'pong',
} as const satisfies Record<number, string>;

/** Control frames have the high opcode bit set (RFC 6455 §5.5). */
export function isControlOpcode(op: number): boolean {
  return (op & 0x8) !== 0;
}
