// A transport port whose incoming messages pass an interceptor first (a flow relay,
// a proxy); what the interceptor hands on reaches the handler the transaction layer
// registers. Sending goes straight to the transport.
import type { MessageSource, SipMessageHandler } from '../transport/index.ts';
import type { SipMessage } from '../../decode/sip/index.ts';
import type { TransportPort } from './layer.ts';

export function interceptedTransport(
  transport: TransportPort,
  intercept: (message: SipMessage, source: MessageSource, pass: SipMessageHandler) => void,
): TransportPort {
  let next: SipMessageHandler = () => {};
  transport.onMessage((message, source) => intercept(message, source, (m, s) => next(m, s)));
  return {
    get host() {
      return transport.host;
    },
    get port() {
      return transport.port;
    },
    send: (message, target, options) => transport.send(message, target, options),
    onMessage: (handler) => {
      next = handler;
    },
  };
}
