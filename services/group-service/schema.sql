-- Basic group information (Huawei US 7,899,479: group attributes, member
-- list, member attributes, admin policy) and the outbox that carries every
-- change to Kafka. Runs with search_path set to the service's schema.

-- Versions come from one sequence, so a group's versions keep increasing even
-- when it is deleted and created again under the same id: consumers that drop
-- records whose version is not above the one they hold stay correct.
create sequence if not exists group_version_seq;

create table if not exists groups (
  id            text primary key,
  uri           text not null unique,
  name          text not null,
  attributes    jsonb not null default '{}',
  admin_policy  text not null default 'members-only' check (admin_policy in ('members-only', 'anyone')),
  version       bigint not null,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);

create table if not exists group_members (
  group_id      text not null references groups (id) on delete cascade,
  -- Our subscriber key (msisdn:+…, imsi:…, aor:sip:…), resolved through the directory.
  subscriber    text not null,
  uri           text not null,
  role          text,
  display_name  text,
  attributes    jsonb not null default '{}',
  -- The member's authorization policy toward the group (Action 701): share
  -- its presence at all, and which parts ('{}' = all).
  share         boolean not null default true,
  shared_parts  text[] not null default '{}',
  -- Insertion order: the member list keeps the order members joined in.
  position      bigserial,
  updated_at    timestamptz not null default now(),
  primary key (group_id, subscriber)
);

-- One row per committed change, written in the same transaction as the
-- change: the full Group record of that version (null = the group was
-- deleted: a tombstone). The relay publishes rows in seq order and deletes
-- them only after Kafka acknowledged them.
create table if not exists group_outbox (
  seq           bigserial primary key,
  group_id      text not null,
  version       bigint not null,
  record        jsonb,
  created_at    timestamptz not null default now()
);
