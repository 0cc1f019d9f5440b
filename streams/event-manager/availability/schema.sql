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
