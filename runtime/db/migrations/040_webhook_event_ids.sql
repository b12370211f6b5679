-- Webhook event ids follow one rule, proto's WebhookEventId (webhookEventId in
-- proto/messages.ts): 1-128 printable ASCII characters, not starting with "~", or "~" and the
-- hex SHA-256 of the JSON string form of any other provider id. The relay maps every provider
-- id this way before it stores, forwards (Nats-Msg-Id) and ingress records it. Ids recorded
-- under the old rule (any 1-256 characters) are rewritten to the key a redelivery of the same
-- webhook now carries, so it is still recognised as a duplicate. PostgreSQL's to_json escapes a
-- string exactly as JavaScript's JSON.stringify does for the characters text can hold.
update webhook_events
   set event_id = '~' || encode(sha256(convert_to(to_json(event_id)::text, 'UTF8')), 'hex')
 where event_id !~ '^([!-}][!-~]{0,127}|~[0-9a-f]{64})$';

alter table webhook_events add constraint webhook_events_event_id_rule
  check (event_id ~ '^([!-}][!-~]{0,127}|~[0-9a-f]{64})$');
