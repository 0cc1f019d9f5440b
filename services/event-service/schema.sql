-- The event service (issue 17): services' registrations, the event log, each
-- event's recipients with their delivery state and answer, and pull cursors.
-- Runs with search_path set to the service's schema.

create table if not exists event_services (
  name           text primary key,
  -- Event types it may publish (POST /events).
  publishes      text[] not null default '{}',
  -- [{types, subscribers ('all' | [subscriber keys]), where ({payload field: value})}]
  subscriptions  jsonb not null default '[]',
  delivery       text not null check (delivery in ('webhook', 'sse', 'pull')),
  webhook_url    text,
  webhook_secret text,
  registered_at  timestamptz not null default now(),
  updated_at     timestamptz not null default now()
);

-- One row per event id: a replayed or re-sent event is logged once.
create table if not exists event_log (
  seq         bigserial primary key,
  event_id    text not null unique,
  type        text not null,
  subject     text not null,
  event_time  timestamptz not null,
  source      text not null,
  payload     jsonb,
  logged_at   timestamptz not null default now()
);
create index if not exists event_log_subject on event_log (subject, seq);
create index if not exists event_log_logged_at on event_log (logged_at);

-- Who is to be told of an event, whether and when it was, and what it answered.
create table if not exists event_recipients (
  seq              bigint not null references event_log (seq) on delete cascade,
  service          text not null,
  -- The event's subject, copied: deliveries are ordered per subscriber per service.
  subject          text not null,
  delivery         text not null,
  notified         boolean not null default false,
  notified_at      timestamptz,
  attempts         integer not null default 0,
  next_attempt_at  timestamptz not null default now(),
  answer_status    integer,
  answer_body      text,
  primary key (service, seq)
);
create index if not exists event_recipients_pending on event_recipients (service, subject, seq) where not notified;

-- Pull and SSE: the last event each service has acknowledged (survives restarts).
create table if not exists event_cursors (
  service     text primary key,
  position    bigint not null default 0,
  updated_at  timestamptz not null default now()
);

-- Whether each event type is being sent (seed 004: services are told when a type stops or starts
-- again); kept so a restart does not announce again what was already announced.
create table if not exists event_type_status (
  type        text primary key,
  available   boolean not null,
  last_seen   timestamptz,
  changed_at  timestamptz not null default now()
);
