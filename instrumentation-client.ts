import { z } from "zod";

// Pages run under a policy with no 'unsafe-eval' (server/security/security-headers.ts). Zod
// probes for eval with `new Function` as it builds its first object schema, and the browser
// reports the blocked probe as a violation even though zod then does without: it is told
// here, before the app's code builds any schema.
z.config({ jitless: true });
