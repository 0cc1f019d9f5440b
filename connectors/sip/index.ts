// SIP transport and non-INVITE transaction layer shared by the SIP front end
// (answers SUBSCRIBE/PUBLISH) and the NOTIFY sink (sends NOTIFYs).
export * from './message/index.ts';
export * from './transport/index.ts';
export * from './transaction/index.ts';
