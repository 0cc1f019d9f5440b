-- The subscriber directory (the Tekelec document's "IMSI, MSISDN, MIN"):
-- which identities belong to one of our subscribers. Provisioned by the
-- operator; pairs that signaling reveals (insertSubscriberData,
-- sendRoutingInfo results) are learned into it.
create table if not exists subscribers (
  id          bigserial primary key,
  -- The canonical subscriber key, fixed when the entry is created (MSISDN,
  -- else IMSI, else AoR) and never changed by learning, so a subscriber's
  -- events keep one key (and one partition) as identities are learned.
  key         text not null unique,
  msisdn      text unique check (msisdn ~ '^\+[1-9][0-9]{1,14}$'),
  imsi        text unique check (imsi ~ '^[0-9]{14,15}$'),
  aor         text unique,
  origin      text not null default 'provisioned' check (origin in ('provisioned', 'learned')),
  updated_at  timestamptz not null default now(),
  check (msisdn is not null or imsi is not null or aor is not null)
);
