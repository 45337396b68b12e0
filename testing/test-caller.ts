import type { Caller } from "@/server/api/context";

/**
 * The caller a test hands the tRPC fetch handler when it calls it in-process, as the HTTP edge
 * would after finding the address from the socket (TEST-NET-1 unless told).
 */
export const testCaller = (address = "192.0.2.1"): Caller => ({ address, secure: false });
