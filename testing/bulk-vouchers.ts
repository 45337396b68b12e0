/**
 * SQL that gives a deal `count` confirmed claims, each with a voucher, for tests at the scale
 * of a big cancellation (thousands at once) without claiming each one. The tokens are
 * placeholders: these vouchers are counted and revoked, never scanned. Shopper, claim and
 * voucher of number n share the id `prefix` + n in eight digits (12 characters). Plain SQL
 * text, so that vitest (drizzle) and Playwright (postgres.js) run the same statements.
 */
export function bulkClaimsWithVouchers(options: {
  /** Four letters or digits, new per call. */
  prefix: string;
  dealId: string;
  merchantId: string;
  count: number;
  issuedAt: Date;
  expiresAt: Date;
}): string[] {
  const { prefix, dealId, merchantId, count } = options;
  const isId = (id: string) => /^[0-9A-Za-z]{12}$/.test(id);
  if (!/^[0-9A-Za-z]{4}$/.test(prefix) || !isId(dealId) || !isId(merchantId)) {
    throw new Error("bulkClaimsWithVouchers takes a four-character prefix and real ids");
  }
  if (!Number.isInteger(count) || count < 1) throw new Error("count must be a whole number");
  const series = `FROM generate_series(1, ${count}) AS n`;
  const rowId = `'${prefix}' || lpad(n::text, 8, '0')`;
  const issued = `'${options.issuedAt.toISOString()}'::timestamptz`;
  return [
    `INSERT INTO users (id, email, display_name, password_hash, role)
     SELECT ${rowId}, lower(${rowId}) || '@bulk.test', 'Bulk shopper ' || n,
            'not-a-sign-in-account', 'shopper' ${series}`,
    `INSERT INTO claims (id, deal_id, user_id, status, idempotency_key)
     SELECT ${rowId}, '${dealId}', ${rowId}, 'confirmed', 'bulk-' || n ${series}`,
    `INSERT INTO vouchers (id, claim_id, deal_id, merchant_id, subject, kid, token,
                           issued_at, not_before, expires_at)
     SELECT ${rowId}, ${rowId}, '${dealId}', '${merchantId}', 'bulkSubject1', 'bulk-kid',
            'not-a-token', ${issued}, ${issued}, '${options.expiresAt.toISOString()}'::timestamptz
     ${series}`,
    `UPDATE deals SET sold = sold + ${count} WHERE id = '${dealId}'`,
  ];
}
