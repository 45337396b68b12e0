import "server-only";
import { createHash } from "node:crypto";

/**
 * What is stored of a random secret handed out once (a device credential, an invitation
 * link): its SHA-256. The secrets carry 192 bits or more, so no salt or slow hash is needed.
 */
export const hashSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");
