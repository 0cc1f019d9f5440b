-- The current group presence document of each group, kept from the compacted
-- group-presence topic (connectors/sinks/group-presence). One row per group;
-- a record only replaces the row when its version is newer, so a re-read
-- (at-least-once) or an out-of-order duplicate never moves a group back.
create table if not exists group_presence (
  group_id         text primary key,
  version          bigint not null,
  uri              text not null,
  name             text not null,
  admin_policy     text not null,
  member_count     integer not null,
  available_count  integer not null,
  content_type     text not null,
  document         text not null,
  group_info       text not null,
  -- per member: subscriber, uri, role, displayName, attributes, share, sharedParts, basic, pidf
  members          jsonb not null,
  updated_at       timestamptz not null,
  stored_at        timestamptz not null default now()
);
create index if not exists group_presence_uri on group_presence (uri);
