// XML access for presence documents: validates (malformed → DecodeError) and
// parses with fast-xml-parser, dropping namespace prefixes so documents using
// any prefix (or none) for pidf / data-model / rpid read the same.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DecodeError } from '../protocols/decode/layer.ts';

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Element lists are always arrays so a single <tuple> reads like many.
  isArray: (_name, _jpath, _isLeaf, isAttribute) => !isAttribute,
  processEntities: true,
  // numeric character references (&#233;) are plain XML, not HTML, but v5 decodes them only here
  htmlEntities: true,
});

const MAX_XML_BYTES = 1 << 20;

/** Parses an XML document; the top-level object maps root element names to node arrays. */
export function parseXml(layer: string, input: Buffer | string): XmlNode {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.length > MAX_XML_BYTES) throw new DecodeError(layer, 'unsupported', `XML body of ${text.length} bytes`);
  let valid: true | { err: { msg: string; line: number } };
  try {
    valid = XMLValidator.validate(text);
  } catch (e) {
    throw new DecodeError(layer, 'malformed', `XML: ${String(e)}`);
  }
  if (valid !== true) throw new DecodeError(layer, 'malformed', `XML line ${valid.err.line}: ${valid.err.msg}`);
  try {
    return parser.parse(text) as XmlNode;
  } catch (e) {
    throw new DecodeError(layer, 'malformed', `XML: ${String(e)}`);
  }
}

/** Child element nodes of a given local name (always an array). */
export function children(node: unknown, name: string): unknown[] {
  if (node === null || typeof node !== 'object') return [];
  const v = (node as XmlNode)[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** First child of a local name. */
export function child(node: unknown, name: string): unknown {
  return children(node, name)[0];
}

/** Text content of an element node ('' for empty elements). */
export function text(node: unknown): string | undefined {
  if (node === undefined || node === null) return undefined;
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (typeof node === 'object') {
    const t = (node as XmlNode)['#text'];
    if (t === undefined) return '';
    return Array.isArray(t) ? t.join('') : String(t);
  }
  return undefined;
}

export function attr(node: unknown, name: string): string | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const v = (node as XmlNode)[`@_${name}`];
  return v === undefined ? undefined : String(v);
}

/** Names of the child elements (not attributes, not text), in document order. */
export function childNames(node: unknown): string[] {
  if (node === null || typeof node !== 'object') return [];
  return Object.keys(node as XmlNode).filter((k) => !k.startsWith('@_') && k !== '#text');
}
