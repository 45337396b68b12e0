import type { Env } from "@/server/env";
import {
  type Services as PublicServices,
  type ServiceInternals,
  type ServiceOptions,
  wireServices,
} from "@/server/services";

/** The services as tests see them: what requests read, and the internals beside it. */
export type Services = PublicServices & ServiceInternals;

/** server/services.ts's wiring, with its internals (database, platform, sweep…) in reach. */
export async function createServices(env: Env, options: ServiceOptions = {}): Promise<Services> {
  const { services, internals } = await wireServices(env, options);
  return { ...services, ...internals };
}
