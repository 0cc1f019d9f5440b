// PIDF presence documents (RFC 3863) with RPID activities (RFC 4480) and the
// data model's person element (RFC 4479), as published and notified in IMS.

export type Activity = 'on-the-phone' | 'busy' | 'away' | 'meeting';

export function pidf(entity: string, open: boolean, activity?: Activity): string {
  const person = activity ? `<dm:person id="p1"><rpid:activities><rpid:${activity}/></rpid:activities></dm:person>\r\n` : '';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\r\n' +
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${entity}">\r\n` +
    `<tuple id="t1"><status><basic>${open ? 'open' : 'closed'}</basic></status></tuple>\r\n` +
    person +
    '</presence>\r\n'
  );
}
