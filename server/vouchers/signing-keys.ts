import "server-only";
import { createPrivateKey, type JsonWebKey } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { type Db, rowsOf } from "@/db/client";
import { signingKeys } from "@/db/schema";
import { VOUCHER_ALG, type VoucherPublicKey } from "@/lib/vouchers/voucher-format";
import { recordAudit } from "../audit/audit-log";
import type { Actor } from "../auth/actor";
import { DomainError } from "../errors";
import type { KeyEncryption } from "./key-encryption";
import { encodedVoucherHeader, type ServerSigningKey } from "./voucher-signer";

type KeyStatus = (typeof signingKeys.$inferSelect)["status"];

export interface SigningKeyInfo {
  kid: string;
  status: KeyStatus;
  publishedAt: Date;
  activatedAt: Date | null;
  retiredAt: Date | null;
  /** Whether /.well-known/jwks.json lists it now. */
  published: boolean;
}

interface SigningKeyStoreOptions {
  /** How long a new key is published before it signs, so offline devices learn it first. */
  leadMs: number;
  clockSkewSeconds: number;
  clock: () => Date;
}

/** How long an instance keeps using what it read; a rotation on another instance shows within it. */
const CACHE_MS = 30_000;

/**
 * The ES256 keys that sign vouchers. Life of a key: `next` (published, not yet signing) →
 * `active` (the one signing key) → `retired` (published until the last voucher it signed has
 * expired, then gone from the key set; its private part is erased at retirement).
 * Private keys live only here, sealed at rest, and never leave this module unsealed except
 * as a non-extractable CryptoKey and node:crypto's KeyObject of the same key (server-only).
 */
export class SigningKeyStore {
  private signer: { key: ServerSigningKey; readAt: number } | null = null;
  private published: { keys: VoucherPublicKey[]; readAt: number } | null = null;

  constructor(
    private readonly db: Db,
    private readonly encryption: KeyEncryption,
    private readonly options: SigningKeyStoreOptions,
  ) {}

  /**
   * Makes sure one key can sign. The very first key signs at once, since no device can know
   * any key before it. Safe when several instances start together: one insert wins.
   */
  async ensureActiveKey(): Promise<string> {
    const active = await this.rowWithStatus("active");
    if (active) return active.kid;
    await this.generate("active");
    const winner = await this.rowWithStatus("active");
    if (!winner) throw new Error("no active signing key after generating one");
    return winner.kid;
  }

  /** Starts a rotation: publishes a new key, which signs once the lead time has passed. */
  async stageNextKey(actor?: Actor): Promise<SigningKeyInfo> {
    const existing = await this.rowWithStatus("next");
    if (!existing) await this.generate("next");
    const next = await this.rowWithStatus("next");
    if (!next) throw new Error("no next signing key after generating one");
    this.published = null;
    if (actor && !existing) await this.audit(actor, "signing-key.stage", next.kid);
    return (await this.list()).find((key) => key.kid === next.kid) as SigningKeyInfo;
  }

  /**
   * Makes the `next` key the signing one and retires the current one, once the next key has
   * been published for the lead time. Returns false when there is nothing to do yet.
   */
  async activateNextKey(actor?: Actor): Promise<boolean> {
    const next = await this.rowWithStatus("next");
    if (!next) throw new DomainError("INVALID_STATE", "There is no next key: stage one first.");
    const now = this.options.clock();
    const readyAt = new Date(next.createdAt.getTime() + this.options.leadMs);
    if (now < readyAt) {
      throw new DomainError(
        "INVALID_STATE",
        `The next key signs from ${readyAt.toISOString()}, after devices have had time to learn it.`,
        { readyAt: readyAt.toISOString() },
      );
    }
    await this.db.transaction(async (tx) => {
      await tx
        .update(signingKeys)
        .set({ status: "retired", retiredAt: now, privateJwkEncrypted: null })
        .where(eq(signingKeys.status, "active"));
      await tx
        .update(signingKeys)
        .set({ status: "active", activatedAt: now })
        .where(and(eq(signingKeys.kid, next.kid), eq(signingKeys.status, "next")));
    });
    this.signer = null;
    this.published = null;
    if (actor) await this.audit(actor, "signing-key.activate", next.kid);
    return true;
  }

  /**
   * Withdraws a staged key before it ever signs (a rotation called off, or a key that may
   * have leaked): it leaves the key set at once and its private part is erased. The active
   * key is retired only by activating its successor, so vouchers can always be signed.
   */
  async retireKey(actor: Actor, kid: string): Promise<SigningKeyInfo> {
    const [key] = await this.db.select().from(signingKeys).where(eq(signingKeys.kid, kid));
    if (!key) throw new DomainError("NOT_FOUND", "No signing key has this kid.", { kid });
    if (key.status === "active") {
      throw new DomainError(
        "INVALID_STATE",
        "The active key signs every new voucher: stage a next key and activate it to retire this one.",
      );
    }
    if (key.status === "next") {
      const now = this.options.clock();
      await this.db
        .update(signingKeys)
        .set({ status: "retired", retiredAt: now, privateJwkEncrypted: null })
        .where(and(eq(signingKeys.kid, kid), eq(signingKeys.status, "next")));
      this.published = null;
      await this.audit(actor, "signing-key.retire", kid);
    }
    return (await this.list()).find((info) => info.kid === kid) as SigningKeyInfo;
  }

  private async audit(actor: Actor, action: string, kid: string) {
    const entry = { action, targetType: "signing-key" as const, targetId: kid, merchantId: null };
    await recordAudit(this.db, actor, entry, this.options.clock());
  }

  /** The background step of a rotation: activates a staged key when its lead time is over. */
  async advanceRotation(): Promise<boolean> {
    const next = await this.rowWithStatus("next");
    if (!next) return false;
    if (this.options.clock().getTime() < next.createdAt.getTime() + this.options.leadMs) {
      return false;
    }
    return this.activateNextKey();
  }

  /**
   * The key set devices trust: the next and active keys, and each retired key while a
   * voucher it signed can still verify (until its expiry plus the allowed clock skew).
   */
  async publishedKeys(): Promise<VoucherPublicKey[]> {
    const now = this.options.clock();
    if (this.published && now.getTime() - this.published.readAt < CACHE_MS) {
      return this.published.keys;
    }
    const keptSince = new Date(now.getTime() - this.options.clockSkewSeconds * 1_000);
    const result = await this.db.execute(sql`
      SELECT k.public_jwk FROM signing_keys k
      WHERE k.status IN ('active', 'next')
         OR EXISTS (SELECT 1 FROM vouchers v
                    WHERE v.kid = k.kid AND v.expires_at >= ${keptSince.toISOString()}::timestamptz)
      ORDER BY CASE k.status WHEN 'active' THEN 0 WHEN 'next' THEN 1 ELSE 2 END, k.created_at DESC`);
    const keys = rowsOf<{ public_jwk: VoucherPublicKey }>(result).map((row) => row.public_jwk);
    this.published = { keys, readAt: now.getTime() };
    return keys;
  }

  async list(): Promise<SigningKeyInfo[]> {
    this.published = null;
    const published = new Set((await this.publishedKeys()).map((key) => key.kid));
    const rows = await this.db
      .select({
        kid: signingKeys.kid,
        status: signingKeys.status,
        publishedAt: signingKeys.createdAt,
        activatedAt: signingKeys.activatedAt,
        retiredAt: signingKeys.retiredAt,
      })
      .from(signingKeys)
      .orderBy(sql`${signingKeys.createdAt} DESC`);
    return rows.map((row) => ({ ...row, published: published.has(row.kid) }));
  }

  /** The key that signs now, unsealed once and kept for a short while. */
  async signingKey(): Promise<ServerSigningKey> {
    const now = this.options.clock().getTime();
    if (this.signer && now - this.signer.readAt < CACHE_MS) return this.signer.key;
    const active = await this.rowWithStatus("active");
    if (!active?.privateJwkEncrypted) {
      throw new DomainError("UNAVAILABLE", "Vouchers cannot be signed: there is no signing key.");
    }
    const jwk = JSON.parse(this.encryption.open(active.privateJwkEncrypted, active.kid)) as JWK;
    const privateKey = (await importJWK(jwk, VOUCHER_ALG, { extractable: false })) as CryptoKey;
    const keyObject = createPrivateKey({ key: jwk as JsonWebKey, format: "jwk" });
    const encodedHeader = encodedVoucherHeader(active.kid);
    this.signer = { key: { kid: active.kid, privateKey, keyObject, encodedHeader }, readAt: now };
    return this.signer.key;
  }

  private async rowWithStatus(status: KeyStatus) {
    const [row] = await this.db.select().from(signingKeys).where(eq(signingKeys.status, status));
    return row ?? null;
  }

  private async generate(status: "active" | "next") {
    const pair = await generateKeyPair(VOUCHER_ALG, { extractable: true });
    const publicJwk = await exportJWK(pair.publicKey);
    const kid = await calculateJwkThumbprint(publicJwk, "sha256");
    const privateJwk = await exportJWK(pair.privateKey);
    const now = this.options.clock();
    await this.db
      .insert(signingKeys)
      .values({
        kid,
        publicJwk: { ...publicJwk, kid, alg: VOUCHER_ALG, use: "sig" },
        privateJwkEncrypted: this.encryption.seal(JSON.stringify(privateJwk), kid),
        status,
        createdAt: now,
        activatedAt: status === "active" ? now : null,
      })
      // Another instance made one first (one active, one next at most): theirs stands.
      .onConflictDoNothing();
  }
}
