-- Presence authorization rules (the presentity's, in the spirit of RFC 5025):
-- what a watcher may see. A watcher matches exactly by URI, or every watcher
-- of a domain with '*@domain'. Unmatched watchers get the configured default.
create table if not exists watcher_rules (
  presentity  text not null,
  watcher     text not null,
  decision    text not null check (decision in ('allow', 'allow-location', 'allow-presence', 'block', 'polite-block', 'confirm')),
  updated_at  timestamptz not null default now(),
  primary key (presentity, watcher)
);
-- A table made before 'allow-presence' or 'allow-location' existed keeps its old check: widen it,
-- only when needed so a restart takes no exclusive lock on the rules.
do $$
declare
  old_check name;
begin
  -- Event managers start together: one widens, the others then find nothing to do.
  perform pg_advisory_xact_lock(hashtext('presence.watcher_rules.decision_check'));
  select c.conname into old_check from pg_constraint c join pg_class t on t.oid = c.conrelid
   where t.relname = 'watcher_rules' and t.relnamespace = current_schema()::regnamespace
     and c.contype = 'c' and pg_get_constraintdef(c.oid) like '%decision%'
     and pg_get_constraintdef(c.oid) not like '%allow-location%';
  if old_check is not null then
    execute format('alter table watcher_rules drop constraint %I', old_check);
    alter table watcher_rules add constraint watcher_rules_decision_check
      check (decision in ('allow', 'allow-location', 'allow-presence', 'block', 'polite-block', 'confirm'));
  end if;
end $$;
-- Every rule change, committed with it, for the availability service's relay to carry to
-- watcher-consents (issue 16 part 6): the owning event manager applies it to the live
-- dialogs at once, whoever wrote the rule (consent API, `presence rules set`).
create table if not exists watcher_rule_outbox (
  seq         bigserial primary key,
  presentity  text not null,
  version     bigint not null default 0,
  record      jsonb not null
);
