-- Each subscriber's availability settings (the service-coordination document's
-- availability modes, minimal model): what connectability is computed from,
-- together with presence. No row: available, unscreened.
create table if not exists availability (
  subscriber  text primary key,
  mode        text not null default 'available' check (mode in ('available', 'busy', 'do-not-disturb', 'away')),
  forward_to  text,
  screening   text not null default 'none' check (screening in ('none', 'contacts-only')),
  updated_at  timestamptz not null default now()
);

-- Each subscriber's availability profiles (issue 16: profiles, modes, calendar
-- rules, contact lists), as validated JSON (profileValidation.ts). A row here
-- supersedes the subscriber's availability row; without one, that row is read as
-- a one-mode default profile (settingsProfile.ts), so both keep working.
create table if not exists availability_profiles (
  subscriber  text primary key,
  profiles    jsonb not null,
  updated_at  timestamptz not null default now()
);

-- Change propagation (issue 16 part 6): every committed change of a subscriber's
-- profiles (or of the earlier settings, when no profiles row supersedes them)
-- gets a version from one sequence — increasing across subscribers and rows, so
-- a consumer drops a repeat or an older record by comparing versions — and a row
-- in the outbox, written in the same transaction. The availability service's
-- relay publishes the outbox to the availability-profiles topic in seq order and
-- deletes rows only after Kafka acknowledged them (services/availability-service).
create sequence if not exists availability_profile_version_seq;
alter table availability_profiles add column if not exists version bigint not null default 0;

create table if not exists availability_outbox (
  seq         bigserial primary key,
  subscriber  text not null,
  version     bigint not null,
  -- {subscriber, version, profiles, previous, changedAt, cause}: profiles as validated JSON.
  record      jsonb not null,
  created_at  timestamptz not null default now()
);
