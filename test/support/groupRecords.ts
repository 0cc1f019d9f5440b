// Shared test data for the group presence unit tests: members, groups,
// SUBSCRIBEs and PIDFs shaped like the real records.
import type { Group, GroupMember, GroupMemberPresence, GroupPresence, Subscription } from '../../schemas/generated/records.ts';

export function pidfFor(user: string, basic: 'open' | 'closed', activity = 'on-the-phone', note = 'at work'): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" xmlns:lt="urn:ietf:params:xml:ns:location-type" entity="pres:${user}@example.com">`,
    '  <tuple id="network">',
    `    <status><basic>${basic}</basic></status>`,
    '    <dm:deviceID>urn:uuid:00000000-0000-5000-8000-000000000001</dm:deviceID>',
    '    <note>attached to VLR 351910000000</note>',
    '  </tuple>',
    '  <dm:person id="person">',
    `    <rpid:activities><rpid:${activity}/></rpid:activities>`,
    `    <dm:note>${note}</dm:note>`,
    '  </dm:person>',
    '  <dm:device id="handset">',
    '    <dm:deviceID>urn:uuid:00000000-0000-5000-8000-000000000001</dm:deviceID>',
    '    <dm:note>cell 268-01-1-2</dm:note>',
    '  </dm:device>',
    '</presence>',
    '',
  ].join('\n');
}

export function member(n: number, o: Partial<GroupMember> = {}): GroupMember {
  return {
    subscriber: `msisdn:+35191000000${n}`,
    uri: `sip:user${n}@example.com`,
    role: null,
    displayName: `User ${n}`,
    attributes: {},
    share: true,
    sharedParts: [],
    ...o,
  };
}

export function group(members: GroupMember[], o: Partial<Group> = {}): Group {
  return {
    groupId: 'g1',
    version: 1,
    uri: 'sip:team@groups.example.com',
    name: 'Team',
    attributes: { topic: 'ops' },
    members,
    adminPolicy: 'members-only',
    updatedAt: 1_700_000_000_000,
    ...o,
  };
}

export function presenceOf(m: GroupMember, basic: 'open' | 'closed', version: number, activity?: string): GroupMemberPresence {
  return {
    groupId: 'g1',
    subscriber: m.subscriber,
    member: true,
    basic,
    activities: activity ?? null,
    pidf: pidfFor(m.uri.slice(4, m.uri.indexOf('@')), basic, activity),
    dialogs: null,
    presenceVersion: version,
    presenceUpdatedAt: 1,
    time: 1,
    deleted: false,
  };
}

export function subscribe(watcherUri: string, o: Partial<Subscription> = {}): Subscription {
  return {
    contactVerified: true,
    dialogFilter: null,
    requestId: `req-${watcherUri}`,
    receivedAt: 1_700_000_000_000,
    presentity: 'group:g1',
    presentityUri: 'sip:team@groups.example.com',
    watcherUri,
    event: 'presence',
    expires: 3600,
    callId: `call-${watcherUri}`,
    watcherTag: 'wt',
    cseq: 1,
    contact: `sip:${watcherUri.slice(4)};transport=udp`,
    routeSet: [],
    accept: [],
    supported: ['eventlist'],
    body: null,
    frontEnd: 'fe-1',
    localTag: 'lt',
    ...o,
  };
}

/**
 * The `group-presence` document of a members-only team 'Team' as group presence writes it:
 * each sharing member with its basic status (`open` unless `closed` names it) and PIDF.
 */
export function teamPresence(
  groupId: string,
  version: number,
  members: GroupMember[],
  o: { closed?: GroupMember; activity?: string; note?: string } = {},
): GroupPresence {
  const basicOf = (m: GroupMember) => (m === o.closed ? 'closed' : 'open');
  return {
    groupId,
    version,
    memberCount: members.length,
    availableCount: members.filter((m) => m.share && basicOf(m) === 'open').length,
    contentType: 'multipart/related',
    document: '',
    updatedAt: Date.now(),
    uri: 'sip:team@groups.example.com',
    name: 'Team',
    adminPolicy: 'members-only',
    groupInfo: '',
    members: members.map((m) => ({
      ...m,
      basic: m.share ? basicOf(m) : null,
      pidf: m.share ? pidfFor(m.uri.slice(4, m.uri.indexOf('@')), basicOf(m), ...(m === o.closed ? [o.activity, o.note] : [])) : null,
    })),
  };
}
