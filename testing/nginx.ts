import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort, type Running, startProcess, waitForHttp } from "./processes";

export const SHIPPED_NGINX_CONF = path.join(import.meta.dirname, "..", "deploy", "nginx.conf");

/** Debian's nginx is in /usr/sbin, which a user's PATH may not hold. */
const NGINX = existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";

export interface RunningNginx {
  baseUrl: string;
  running: Running;
  /** The configuration it runs: deploy/nginx.conf with this test's deployment lines. */
  config: string;
  stop(): Promise<void>;
}

/**
 * deploy/nginx.conf as shipped, with only its lines marked "deployment:" made this test's: a
 * free loopback port, the given servers behind it, the pid file, logs and temporary files in
 * a folder of its own. Each such line must be found exactly once, so a change to the shipped
 * file's shape fails here rather than testing something else.
 */
export function nginxConfigFor(
  shipped: string,
  options: { port: number; dir: string; app: string[]; claims: string[] },
): string {
  const servers = (hosts: string[]) =>
    hosts.map((host) => `    server ${host} max_fails=3 fail_timeout=5s;`).join("\n");
  const edits: [RegExp, string][] = [
    [/^pid .*;$/m, `pid ${options.dir}/nginx.pid;`],
    [/^error_log .*;$/m, `error_log ${options.dir}/error.log warn;`],
    [/^ {2}access_log .*;$/m, `  access_log ${options.dir}/access.log;${tempPaths(options.dir)}`],
    [/^ {4}listen 80;$/m, `    listen 127.0.0.1:${options.port};`],
    [/(upstream dealdrop_app \{\n)(?: {4}server .*\n)+/, `$1${servers(options.app)}\n`],
    [/(upstream dealdrop_claims \{\n)(?: {4}server .*\n)+/, `$1${servers(options.claims)}\n`],
  ];
  let config = shipped;
  for (const [pattern, replacement] of edits) {
    const found = shipped.match(new RegExp(pattern.source, `${pattern.flags}g`))?.length ?? 0;
    if (found !== 1) throw new Error(`deploy/nginx.conf: ${pattern} matched ${found} times`);
    config = config.replace(pattern, replacement);
  }
  return config;
}

/** Debian's nginx writes request bodies and the like under /var/lib/nginx unless told. */
const tempPaths = (dir: string) =>
  ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((kind) => `\n  ${kind}_temp_path ${dir}/${kind};`)
    .join("");

/**
 * nginx (Debian's /usr/sbin/nginx) in the foreground on a free loopback port, in front of
 * `app` and `claims` ("host:port" each), with deploy/nginx.conf. Checked with `nginx -t` first.
 */
export async function startNginx(options: {
  app: string[];
  claims: string[];
}): Promise<RunningNginx> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dealdrop-nginx-"));
  // Run as root, nginx's workers are `nobody`: they must reach their temporary folders.
  await chmod(dir, 0o755);
  const port = await freePort();
  const config = nginxConfigFor(await readFile(SHIPPED_NGINX_CONF, "utf8"), {
    ...options,
    port,
    dir,
  });
  const confPath = path.join(dir, "nginx.conf");
  await writeFile(confPath, config);
  const args = ["-p", dir, "-c", confPath, "-g", "daemon off;"];
  const check = startProcess(NGINX, ["-t", ...args]);
  const [code] = await new Promise<[number | null]>((resolve) =>
    check.child.once("exit", (exitCode) => resolve([exitCode])),
  );
  if (code !== 0) throw new Error(`nginx -t refused the configuration:\n${check.output()}`);
  const running = startProcess(NGINX, args);
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/api/metrics`, running, 10_000);
  return {
    baseUrl,
    running,
    config,
    async stop() {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
