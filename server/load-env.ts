/**
 * Imported first by every entry point (servers and CLIs), before any module reads the
 * environment (server/log.ts reads LOG_LEVEL as it loads): see server/env-file.ts.
 */
import { loadEnvFile } from "./env-file";

loadEnvFile();
