// RLMI documents (RFC 4662 §5.2): the root part of a resource-list NOTIFY,
// naming each resource and the Content-ID of its current state part.
import { DecodeError } from '../protocols/decode/layer.ts';
import { attr, child, children, parseXml, text } from './xml.ts';

interface RlmiInstance {
  readonly id: string;
  /** 'active' | 'pending' | 'terminated' */
  readonly state: string;
  readonly reason?: string;
  /** Content-ID of the body part carrying this instance's state (e.g. PIDF). */
  readonly cid?: string;
}

interface RlmiResource {
  readonly uri: string;
  readonly names: readonly string[];
  readonly instances: readonly RlmiInstance[];
}

export interface RlmiList {
  readonly uri: string;
  readonly version: number;
  readonly fullState: boolean;
  readonly names: readonly string[];
  readonly resources: readonly RlmiResource[];
}

const LAYER = 'rlmi';

export function parseRlmi(body: Buffer | string): RlmiList {
  const list = child(parseXml(LAYER, body), 'list');
  if (list === undefined) throw new DecodeError(LAYER, 'malformed', 'root element is not <list>');
  const uri = attr(list, 'uri');
  const version = Number(attr(list, 'version'));
  if (!uri || !Number.isInteger(version)) throw new DecodeError(LAYER, 'malformed', '<list> without uri or version');
  const fs = attr(list, 'fullState');
  return {
    uri,
    version,
    fullState: fs === 'true' || fs === '1',
    names: children(list, 'name').map((n) => text(n) ?? ''),
    resources: children(list, 'resource').map((r) => ({
      uri: attr(r, 'uri') ?? '',
      names: children(r, 'name').map((n) => text(n) ?? ''),
      instances: children(r, 'instance').map((i) => {
        const inst: { id: string; state: string; reason?: string; cid?: string } = { id: attr(i, 'id') ?? '', state: attr(i, 'state') ?? '' };
        const reason = attr(i, 'reason');
        if (reason) inst.reason = reason;
        const cid = attr(i, 'cid');
        if (cid) inst.cid = cid;
        return inst;
      }),
    })),
  };
}
