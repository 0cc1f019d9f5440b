// Writes an RFC 4479 presence document as PIDF (RFC 3863) with the data
// model (dm:) and RPID (RFC 4480) namespaces, in schema order, every text
// and attribute XML-escaped. Output depends only on the document, so equal
// facts give byte-equal bodies.
import type { GeoprivLocation, PresenceDevice, PresenceDocument, PresenceNote, PresencePerson, PresenceService } from './model.ts';

const NS = {
  pidf: 'urn:ietf:params:xml:ns:pidf',
  dm: 'urn:ietf:params:xml:ns:pidf:data-model',
  rpid: 'urn:ietf:params:xml:ns:pidf:rpid',
  lt: 'urn:ietf:params:xml:ns:location-type',
};

/** Declared on <gp:geopriv> itself, so documents without a location stay byte-equal to before. */
const GEOPRIV_NS = [
  'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"',
  'xmlns:gbp="urn:ietf:params:xml:ns:pidf:geopriv10:basicPolicy"',
  'xmlns:gml="http://www.opengis.net/gml"',
  'xmlns:gs="http://www.opengis.net/pidflo/1.0"',
].join(' ');
const WGS84 = 'urn:ogc:def:crs:EPSG::4326';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function xmlEscape(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than producing an invalid document.
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const NCNAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function notes(tag: string, ns: readonly PresenceNote[], indent: string): string[] {
  return ns.map((n) => `${indent}<${tag}${n.lang ? ` xml:lang="${xmlEscape(n.lang)}"` : ''}>${xmlEscape(n.text)}</${tag}>`);
}

/** An RPID enumeration (activities, mood, place-type): known values as elements, 'other:x' as <other>. */
function enumeration(tag: string, values: readonly string[], valueNs: string, indent: string): string[] {
  if (values.length === 0) return [];
  const items = values.map((v) =>
    v.startsWith('other:')
      ? `<rpid:other>${xmlEscape(v.slice(6))}</rpid:other>`
      : NCNAME.test(v)
        ? `<${valueNs}:${v}/>`
        : `<rpid:other>${xmlEscape(v)}</rpid:other>`,
  );
  return [`${indent}<rpid:${tag}>${items.join('')}</rpid:${tag}>`];
}

/** RFC 4119 geopriv, RFC 5491 shapes: a point, or a circle with its radius in meters (EPSG 9001). */
function geopriv(g: GeoprivLocation, indent: string): string[] {
  const i = `${indent}  `;
  const pos = `<gml:pos>${g.latitude.toFixed(6)} ${g.longitude.toFixed(6)}</gml:pos>`;
  const shape =
    g.radiusMeters === undefined
      ? `<gml:Point srsName="${WGS84}">${pos}</gml:Point>`
      : `<gs:Circle srsName="${WGS84}">${pos}<gs:radius uom="urn:ogc:def:uom:EPSG::9001">${Math.round(g.radiusMeters * 10) / 10}</gs:radius></gs:Circle>`;
  return [
    `${indent}<gp:geopriv ${GEOPRIV_NS}>`,
    `${i}<gp:location-info>${shape}</gp:location-info>`,
    `${i}<gp:usage-rules><gbp:retransmission-allowed>${g.retransmissionAllowed ? 'yes' : 'no'}</gbp:retransmission-allowed>${
      g.retentionExpiry ? `<gbp:retention-expiry>${xmlEscape(g.retentionExpiry)}</gbp:retention-expiry>` : ''
    }</gp:usage-rules>`,
    ...(g.method ? [`${i}<gp:method>${xmlEscape(g.method)}</gp:method>`] : []),
    `${indent}</gp:geopriv>`,
  ];
}

function status(t: PresenceService, i: string): string[] {
  if (!t.geopriv) return [t.basic ? `${i}<status><basic>${t.basic}</basic></status>` : `${i}<status/>`];
  return [`${i}<status>`, ...(t.basic ? [`${i}  <basic>${t.basic}</basic>`] : []), ...geopriv(t.geopriv, `${i}  `), `${i}</status>`];
}

function tuple(t: PresenceService): string[] {
  const i = '    ';
  return [
    `  <tuple id="${xmlEscape(t.id)}">`,
    ...status(t, i),
    ...t.deviceIds.map((d) => `${i}<dm:deviceID>${xmlEscape(d)}</dm:deviceID>`),
    ...(t.serviceClass && NCNAME.test(t.serviceClass) ? [`${i}<rpid:service-class><rpid:${t.serviceClass}/></rpid:service-class>`] : []),
    ...(t.userInput ? [`${i}<rpid:user-input>${xmlEscape(t.userInput)}</rpid:user-input>`] : []),
    ...(t.contact ? [`${i}<contact${t.contact.priority !== undefined ? ` priority="${t.contact.priority}"` : ''}>${xmlEscape(t.contact.uri)}</contact>`] : []),
    ...notes('note', t.notes, i),
    ...(t.timestamp ? [`${i}<timestamp>${xmlEscape(t.timestamp)}</timestamp>`] : []),
    '  </tuple>',
  ];
}

function person(p: PresencePerson): string[] {
  const i = '    ';
  return [
    `  <dm:person id="${xmlEscape(p.id)}">`,
    ...enumeration('activities', p.activities, 'rpid', i),
    ...enumeration('mood', p.mood, 'rpid', i),
    ...enumeration('place-type', p.placeType, 'lt', i),
    ...(p.userInput ? [`${i}<rpid:user-input>${xmlEscape(p.userInput)}</rpid:user-input>`] : []),
    ...notes('dm:note', p.notes, i),
    ...(p.timestamp ? [`${i}<dm:timestamp>${xmlEscape(p.timestamp)}</dm:timestamp>`] : []),
    '  </dm:person>',
  ];
}

function device(d: PresenceDevice): string[] {
  const i = '    ';
  return [
    `  <dm:device id="${xmlEscape(d.id)}">`,
    ...(d.userInput ? [`${i}<rpid:user-input>${xmlEscape(d.userInput)}</rpid:user-input>`] : []),
    `${i}<dm:deviceID>${xmlEscape(d.deviceId ?? '')}</dm:deviceID>`,
    ...notes('dm:note', d.notes, i),
    ...(d.timestamp ? [`${i}<dm:timestamp>${xmlEscape(d.timestamp)}</dm:timestamp>`] : []),
    '  </dm:device>',
  ];
}

/** application/pidf+xml text of a document. */
export function renderPidf(doc: PresenceDocument): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<presence xmlns="${NS.pidf}" xmlns:dm="${NS.dm}" xmlns:rpid="${NS.rpid}" xmlns:lt="${NS.lt}" entity="${xmlEscape(doc.entity)}">`,
    ...doc.services.flatMap(tuple),
    ...notes('note', doc.notes, '  '),
    ...doc.persons.flatMap(person),
    ...doc.devices.flatMap(device),
    '</presence>',
    '',
  ].join('\n');
}
