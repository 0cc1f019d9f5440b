// WebSocket (RFC 6455) carrier for SIP over WebSocket (RFC 7118).
export { WebSocketFlowDecoder, type WebSocketMessage, type WebSocketPushResult, type WebSocketStats, type WebSocketFlowDecoderOptions } from './flowDecoder.ts';
export { WS_OPCODES, isControlOpcode, type WsOpcodeName } from './opcodes.ts';
