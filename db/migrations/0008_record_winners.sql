-- A batch of the gate's winners recorded in one statement (server/claims/winner-writes.ts):
-- the claim rows, each deal's `sold` bumped once by its winners' count, and for a free deal the
-- voucher signed beforehand by the claim server, so that voucher commits with its claim (the
-- claim row is the entitlement; there is no second transaction to lose between them).
--
-- `winners` is a JSON array of {id, deal_id, user_id, idempotency_key, now, reserved_until}
-- and, where the claim server signed one, voucher_id, voucher_subject, voucher_kid,
-- voucher_token, voucher_issued_at, voucher_expires_at and voucher_merchant_id. A voucher is
-- inserted only for a confirmed (free) claim whose deal still has the merchant and expiry the
-- token was signed with; otherwise its claim is answered without one, and the voucher is
-- issued the ordinary way. A winner whose claim conflicts (the user already holds one, the key
-- was used) is left out of the answer. A deal that would pass its quantity fails the
-- deals_sold_within_quantity check and the whole statement with it.
CREATE FUNCTION record_winners(winners json)
RETURNS TABLE (claim_id text, claim_status claim_status, reserved_until timestamptz, voucher_id text)
LANGUAGE sql
AS $$
  WITH winner AS (
    SELECT * FROM json_to_recordset(winners) AS w(
      id text, deal_id text, user_id text, idempotency_key text, now timestamptz,
      reserved_until timestamptz, voucher_id text, voucher_subject text, voucher_kid text,
      voucher_token text, voucher_issued_at timestamptz, voucher_expires_at timestamptz,
      voucher_merchant_id text)
  ),
  inserted AS (
    INSERT INTO claims (id, deal_id, user_id, status, idempotency_key, reserved_until, created_at, updated_at)
    SELECT w.id, w.deal_id, w.user_id,
      (CASE WHEN d.price_cents > 0 THEN 'reserved' ELSE 'confirmed' END)::claim_status,
      w.idempotency_key,
      CASE WHEN d.price_cents > 0 THEN w.reserved_until END,
      w.now, w.now
    FROM winner w JOIN deals d ON d.id = w.deal_id AND d.status = 'active'
    ON CONFLICT DO NOTHING
    RETURNING id, deal_id, status, reserved_until
  ),
  counted AS (
    UPDATE deals SET sold = deals.sold + n.units
    FROM (SELECT i.deal_id, count(*)::int AS units FROM inserted i GROUP BY i.deal_id) n
    WHERE deals.id = n.deal_id
    RETURNING deals.id
  ),
  issued AS (
    INSERT INTO vouchers (id, claim_id, deal_id, merchant_id, subject, kid, token, issued_at, not_before, expires_at)
    SELECT w.voucher_id, i.id, i.deal_id, d.merchant_id, w.voucher_subject, w.voucher_kid,
      w.voucher_token, w.voucher_issued_at, w.voucher_issued_at, w.voucher_expires_at
    FROM inserted i
    JOIN winner w ON w.id = i.id
    JOIN deals d ON d.id = i.deal_id
    WHERE i.status = 'confirmed'
      AND w.voucher_id IS NOT NULL
      AND w.voucher_merchant_id = d.merchant_id
      AND floor(extract(epoch FROM w.voucher_expires_at)) = floor(extract(epoch FROM d.voucher_valid_until))
    RETURNING id, claim_id
  )
  SELECT i.id, i.status, i.reserved_until, v.id
  FROM inserted i LEFT JOIN issued v ON v.claim_id = i.id
$$;
