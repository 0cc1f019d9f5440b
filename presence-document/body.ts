// Dispatch of a SIP body to the presence parsers by media type: a single PIDF
// document, or an RFC 4662 multipart/related with an RLMI root whose parts are
// PIDF documents (nested multiparts for nested lists are followed).
import { DecodeError } from '../protocols/decode/layer.ts';
import type { PresenceDocument } from './model.ts';
import { parseMultipart, type MimePart } from './multipart.ts';
import { parsePidf } from './parse.ts';
import { parseRlmi, type RlmiList } from './rlmi.ts';

type PresenceBody = { kind: 'pidf'; document: PresenceDocument } | { kind: 'rlmi'; list: RlmiList; parts: readonly PresenceBodyPart[] };

interface PresenceBodyPart {
  readonly part: MimePart;
  /** Parsed presence content of the part, when its type is one we read. */
  readonly presence?: PresenceBody;
}

const PIDF_TYPES = new Set(['application/pidf+xml', 'application/cpim-pidf+xml']);
const MAX_DEPTH = 4;

/**
 * Parses a presence body given its lower-cased media type and Content-Type
 * params; undefined for media types that carry no presence.
 */
export function parsePresenceBody(mediaType: string, params: Readonly<Record<string, string | null>>, body: Buffer, depth = 0): PresenceBody | undefined {
  if (mediaType === 'application/pidf+xml' || mediaType === 'application/cpim-pidf+xml') {
    return { kind: 'pidf', document: parsePidf(body) };
  }
  if (mediaType === 'multipart/related') {
    if (depth >= MAX_DEPTH) throw new DecodeError('multipart', 'unsupported', 'nesting too deep');
    const parts = parseMultipart(body, params['boundary'] ?? '');
    const start = params['start']?.replace(/^<(.*)>$/, '$1');
    const root = (start ? parts.find((p) => p.contentId === start) : undefined) ?? parts[0];
    if (!root || root.contentType !== 'application/rlmi+xml') return undefined;
    const list = parseRlmi(root.body);
    return {
      kind: 'rlmi',
      list,
      parts: parts
        .filter((p) => p !== root)
        .map((part) => {
          const presence =
            PIDF_TYPES.has(part.contentType) || part.contentType === 'multipart/related'
              ? parsePresenceBody(part.contentType, part.contentTypeParams, part.body, depth + 1)
              : undefined;
          return presence ? { part, presence } : { part };
        }),
    };
  }
  return undefined;
}
