import "server-only";
import { adminRouter } from "./routers/admin";
import { authRouter } from "./routers/auth";
import { claimsRouter } from "./routers/claims";
import { dealsRouter } from "./routers/deals";
import { deviceRouter } from "./routers/device";
import { merchantRouter } from "./routers/merchant";
import { salesRouter } from "./routers/sales";
import { vouchersRouter } from "./routers/vouchers";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  claims: claimsRouter,
  deals: dealsRouter,
  vouchers: vouchersRouter,
  merchant: merchantRouter,
  device: deviceRouter,
  admin: adminRouter,
  sales: salesRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
