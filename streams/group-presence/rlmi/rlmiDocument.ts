// RLMI documents (RFC 4662 §5.2): the root part of a list NOTIFY, naming each
// resource (here: each group member) and, for an active instance, the
// Content-ID of the part carrying its state.
import { xmlEscape } from '../../../presence-document/render.ts';

export const RLMI_TYPE = 'application/rlmi+xml';
const RLMI_NS = 'urn:ietf:params:xml:ns:rlmi';

interface RlmiInstanceOut {
  id: string;
  state: 'active' | 'pending' | 'terminated';
  /** With terminated: rejected (not shared), noresource (left the group), deactivated. */
  reason?: string | null;
  /** Content-ID (without <>) of the part holding the state; active instances only. */
  cid?: string | null;
}

export interface RlmiResourceOut {
  uri: string;
  name?: string | null;
  instance: RlmiInstanceOut;
}

interface RlmiListOut {
  uri: string;
  version: number;
  fullState: boolean;
  name?: string | null;
  resources: readonly RlmiResourceOut[];
}

function instance(i: RlmiInstanceOut): string {
  const reason = i.state === 'terminated' && i.reason ? ` reason="${xmlEscape(i.reason)}"` : '';
  const cid = i.state === 'active' && i.cid ? ` cid="${xmlEscape(i.cid)}"` : '';
  return `<instance id="${xmlEscape(i.id)}" state="${i.state}"${reason}${cid}/>`;
}

export function renderRlmi(l: RlmiListOut): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<list xmlns="${RLMI_NS}" uri="${xmlEscape(l.uri)}" version="${l.version}" fullState="${l.fullState}">`,
    ...(l.name ? [`  <name>${xmlEscape(l.name)}</name>`] : []),
  ];
  for (const r of l.resources) {
    lines.push(`  <resource uri="${xmlEscape(r.uri)}">`);
    if (r.name) lines.push(`    <name>${xmlEscape(r.name)}</name>`);
    lines.push(`    ${instance(r.instance)}`);
    lines.push('  </resource>');
  }
  lines.push('</list>', '');
  return lines.join('\n');
}
