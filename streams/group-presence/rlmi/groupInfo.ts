// The basic group information part (Huawei: group attributes, member list,
// member attributes). No standard format exists for it; ours is a small XML
// vocabulary under our own namespace and media type. Policy attributes
// (receive*) are the watcher's own business and are not shown to others.
import { xmlEscape } from '../../../presence-document/render.ts';
import { RECEIVE_ATTRIBUTES } from '../policy/receiving.ts';

export const GROUP_INFO_TYPE = 'application/vnd.presence-gateway.group-info+xml';
const GROUP_INFO_NS = 'urn:presence-gateway:params:xml:ns:group-info';

interface GroupInfoMember {
  uri: string;
  role: string | null;
  displayName: string | null;
  attributes: Record<string, string>;
}

interface GroupInfo {
  uri: string;
  name: string;
  version: number;
  attributes: Record<string, string>;
  members: readonly GroupInfoMember[];
}

const PRIVATE = new Set<string>(Object.values(RECEIVE_ATTRIBUTES));

function attributes(a: Record<string, string>, indent: string): string[] {
  return Object.keys(a)
    .filter((k) => !PRIVATE.has(k))
    .sort()
    .map((k) => `${indent}<attribute name="${xmlEscape(k)}">${xmlEscape(a[k]!)}</attribute>`);
}

export function renderGroupInfo(g: GroupInfo): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<group xmlns="${GROUP_INFO_NS}" uri="${xmlEscape(g.uri)}" version="${g.version}">`,
    `  <name>${xmlEscape(g.name)}</name>`,
    ...attributes(g.attributes, '  '),
  ];
  for (const m of g.members) {
    const role = m.role ? ` role="${xmlEscape(m.role)}"` : '';
    const attrs = attributes(m.attributes, '    ');
    const name = m.displayName ? [`    <display-name>${xmlEscape(m.displayName)}</display-name>`] : [];
    if (attrs.length === 0 && name.length === 0) lines.push(`  <member uri="${xmlEscape(m.uri)}"${role}/>`);
    else lines.push(`  <member uri="${xmlEscape(m.uri)}"${role}>`, ...name, ...attrs, '  </member>');
  }
  lines.push('</group>', '');
  return lines.join('\n');
}
