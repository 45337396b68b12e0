import { authRouter } from "./routers/auth";
import { claimsRouter } from "./routers/claims";
import { dealsRouter } from "./routers/deals";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  claims: claimsRouter,
  deals: dealsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
