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
