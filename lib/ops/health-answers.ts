import { z } from "zod";

/**
 * What `/healthz` and `/readyz` answer, on the app server and the claim server alike
 * (server/http/health-route.ts). A load balancer or an orchestrator reads the status code;
 * people and scripts read these.
 *
 * `/healthz`: 200 while the process runs its event loop (a liveness probe: restart it when
 * this fails). `/readyz`: 200 when it should be sent traffic, 503 otherwise: one of its
 * dependencies is down, or it is draining before it stops.
 */
export const HEALTHZ_PATH = "/healthz";
export const READYZ_PATH = "/readyz";

export const livenessSchema = z.object({
  status: z.literal("alive"),
  /** Seconds since the process started. */
  uptimeSeconds: z.number().nonnegative(),
});
export type Liveness = z.infer<typeof livenessSchema>;

export const healthCheckSchema = z.object({
  ok: z.boolean(),
  /** What is wrong, for a person (never an internal address or a query). */
  problem: z.string().optional(),
});
export type HealthCheck = z.infer<typeof healthCheckSchema>;

export const READINESS_CHECKS = ["postgres", "redis", "migrations", "signingKey"] as const;
export type ReadinessCheckName = (typeof READINESS_CHECKS)[number];

export const readinessSchema = z.object({
  /** ready: send traffic; unready: a check failed; draining: stopping, send it nothing new. */
  status: z.enum(["ready", "unready", "draining"]),
  /** `redis` only when the server is configured with Redis. */
  checks: z.partialRecord(z.enum(READINESS_CHECKS), healthCheckSchema),
});
export type Readiness = z.infer<typeof readinessSchema>;
