/**
 * Bundles the production server (server/http/main.ts) into dist/server.mjs, and the
 * claim server (server/http/claim-server.ts) into dist/claim-server.mjs. Packages stay
 * in node_modules; `server-only` becomes an empty module (what the package itself answers
 * under the `react-server` condition), because this bundle is server code by construction
 * and Node would otherwise throw on it.
 */
import path from "node:path";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "../..");

await build({
  entryPoints: {
    server: path.join(root, "server/http/main.ts"),
    "claim-server": path.join(root, "server/http/claim-server.ts"),
  },
  outdir: path.join(root, "dist"),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  plugins: [
    {
      name: "server-only-is-empty",
      setup(bundle) {
        bundle.onResolve({ filter: /^server-only$/ }, () => ({
          path: "server-only",
          namespace: "empty",
        }));
        bundle.onLoad({ filter: /.*/, namespace: "empty" }, () => ({ contents: "", loader: "js" }));
      },
    },
  ],
  tsconfig: path.join(root, "tsconfig.json"),
  sourcemap: "linked",
  logLevel: "warning",
});
console.log("Built dist/server.mjs and dist/claim-server.mjs");
