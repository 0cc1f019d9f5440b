-- SIP digest credentials (issue 13.1): per username and realm, the HA1 of
-- each algorithm (H(username:realm:password)), never the password, and the
-- public identity (URI) the username authenticates as — the watcher of its
-- SUBSCRIBEs and the only presentity its PUBLISHes may name, besides the
-- presentities that delegated publishing to it (publish_delegates).
create table if not exists sip_credentials (
  username    text not null,
  realm       text not null,
  identity    text not null check (identity ~ '^(sips?|tel):'),
  ha1_md5     text not null check (ha1_md5 ~ '^[0-9a-f]{32}$'),
  ha1_sha256  text not null check (ha1_sha256 ~ '^[0-9a-f]{64}$'),
  updated_at  timestamptz not null default now(),
  primary key (username, realm)
);

-- A presentity (by subscriber key) lets another identity PUBLISH for it
-- (RFC 3903 leaves publication authorization to local policy).
create table if not exists publish_delegates (
  presentity  text not null,
  delegate    text not null,
  primary key (presentity, delegate)
);

-- Uses of a nonce (nonce, nc, cnonce) any front end accepted, when the front
-- ends check replays together (PRESENCE_SIP_REPLAY_CHECK=shared): a second
-- use anywhere is a replay. Kept until the nonce could no longer be fresh.
create table if not exists sip_nonce_uses (
  nonce       text not null,
  nc          text not null,
  cnonce      text not null,
  expires_at  timestamptz not null,
  primary key (nonce, nc, cnonce)
);
create index if not exists sip_nonce_uses_expiry on sip_nonce_uses (expires_at);
