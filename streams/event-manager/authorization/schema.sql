-- Presence authorization rules (the presentity's, in the spirit of RFC 5025):
-- what a watcher may see. A watcher matches exactly by URI, or every watcher
-- of a domain with '*@domain'. Unmatched watchers get the configured default.
create table if not exists watcher_rules (
  presentity  text not null,
  watcher     text not null,
  decision    text not null check (decision in ('allow', 'block', 'polite-block', 'confirm')),
  updated_at  timestamptz not null default now(),
  primary key (presentity, watcher)
);
