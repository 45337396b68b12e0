import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Metrics } from "./metrics";

const PROMETHEUS = path.join(process.cwd(), "deploy", "prometheus");
const DASHBOARD = path.join(process.cwd(), "deploy", "grafana", "dealdrop.json");
const scratch = mkdtempSync(path.join(tmpdir(), "dealdrop-rules-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** promtool from Debian's `prometheus` package (.ci/run installs it); its output, or its complaint. */
function promtool(...args: string[]): string {
  try {
    return execFileSync("promtool", args, { cwd: PROMETHEUS, encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${stdout}${stderr}`);
  }
}

const dashboardExpressions = (): string[] => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    panels: { targets: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
};

/** The dealdrop_ series an expression reads, histogram suffixes taken off. */
const seriesNamed = (expressions: string[]) =>
  new Set(
    expressions.flatMap((expr) =>
      [...expr.matchAll(/dealdrop_[a-z_]+/g)].map(([name]) => name.replace(/_bucket$/, "")),
    ),
  );

describe("issue 21 item 4: the alert rules and the dashboard", () => {
  it("pass promtool check rules", () => {
    expect(promtool("check", "rules", "alerts.yml")).toMatch(/SUCCESS: 5 rules found/);
  });

  it("fire as seed 004 says, and stay quiet otherwise (promtool test rules)", () => {
    expect(promtool("test", "rules", "alerts.test.yml")).toMatch(/SUCCESS/);
  });

  it("every dashboard query is PromQL that promtool parses", () => {
    const rules = {
      groups: [
        {
          name: "dashboard",
          rules: dashboardExpressions().map((expr, i) => ({ record: `dashboard:${i}`, expr })),
        },
      ],
    };
    const file = path.join(scratch, "dashboard-queries.yml");
    writeFileSync(file, JSON.stringify(rules));
    expect(promtool("check", "rules", file)).toMatch(/SUCCESS/);
  });

  it("read only series the app exports", async () => {
    const metrics = new Metrics({ engine: "redis" });
    metrics.watch({
      oversoldUnits: async () => 0,
      redisPing: async () => 0.001,
      readReplica: () => ({ serving: "replica", lagMs: 0 }),
    });
    const exported = new Set(
      [...(await metrics.render()).body.matchAll(/^# TYPE (\S+)/gm)].map(([, name]) => name),
    );
    const alerts = readFileSync(path.join(PROMETHEUS, "alerts.yml"), "utf8")
      .split("\n")
      .filter((line) => line.includes("expr:") || line.includes("dealdrop_"))
      .filter((line) => !line.trim().startsWith("#") && !line.includes("summary"));
    const read = seriesNamed([...alerts, ...dashboardExpressions()]);
    expect(read.size).toBeGreaterThan(8);
    for (const name of read) expect(exported, `${name} is not exported`).toContain(name);
  });
});
