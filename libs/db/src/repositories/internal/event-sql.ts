/**
 * The events an operation's outcome (or a refusal before it ran) records, as data-modifying CTEs to append to the
 * statement that records the outcome itself: both commit together, so an event is never lost for a committed
 * outcome nor emitted for one that did not commit. `source` is a CTE returning one row per recorded outcome with
 * `server_id`, `operation_id`, `operation`, `app_address`, `api_key_id` and `grant_id`; `outcome` and `code` are
 * SQL expressions (parameters) of the outcome's status and error code; `eventId` and `expiredId` the ids of the
 * two events (the second is only written for a grant found expired, once per grant).
 */
export function outcomeEventsSql(
  source: string,
  outcome: string,
  code: string,
  eventId: string,
  expiredId: string,
): string {
  const body = `jsonb_build_object('operationId', operation_id, 'operation', operation, 'appAddress', app_address,
                   'apiKeyId', api_key_id, 'grantId', grant_id, 'code', ${code}::text)`;
  return `evented AS (
         INSERT INTO events (id, server_id, type, data)
         SELECT ${eventId}, server_id, 'operation.' || ${outcome}::text, ${body}
           FROM ${source} WHERE ${outcome}::text IN ('succeeded', 'failed', 'denied')
       ), expired AS (
         INSERT INTO events (id, server_id, type, data, dedupe_key)
         SELECT ${expiredId}, server_id, 'grant.expired', ${body}, 'grant.expired:' || grant_id
           FROM ${source} WHERE ${code}::text = 'grant_expired' AND grant_id IS NOT NULL
         ON CONFLICT (server_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
       )`;
}
