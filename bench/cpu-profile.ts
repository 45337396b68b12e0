/** Reads V8 `.cpuprofile` files (node --cpu-prof) into self time per function and per place. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  totalUs: number;
  /** "name place:line" → µs of self time, largest first. */
  byFunction: [string, number][];
  /** Package (node_modules), node: module or source file → µs, largest first. */
  byPlace: [string, number][];
}

/** Self time summed over every `.cpuprofile` in `folder` (one per process, workers included). */
export function selfTimeIn(folder: string): SelfTime {
  const files = readdirSync(folder).filter((name) => name.endsWith(".cpuprofile"));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${folder}`);
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let totalUs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(path.join(folder, file), "utf8")) as CpuProfile;
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => {
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    for (const node of profile.nodes) {
      const us = selfUs.get(node.id) ?? 0;
      if (us === 0) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      const place = placeOf(url);
      const name = `${functionName || "(anonymous)"} ${place}${url ? `:${lineNumber + 1}` : ""}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + us);
      byPlace.set(place, (byPlace.get(place) ?? 0) + us);
      totalUs += us;
    }
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { totalUs, byFunction: sorted(byFunction), byPlace: sorted(byPlace) };
}

/** Prints the top functions and places, as shares of all sampled time. */
export function printSelfTime(self: SelfTime, functions = 40, places = 20): void {
  const share = (us: number) => `${((100 * us) / self.totalUs).toFixed(1).padStart(5)}%`;
  console.log("\nself time by function");
  for (const [name, us] of self.byFunction.slice(0, functions))
    console.log(`${share(us)}  ${name}`);
  console.log("\nself time by package or folder");
  for (const [place, us] of self.byPlace.slice(0, places)) console.log(`${share(us)}  ${place}`);
}

function placeOf(url: string): string {
  if (!url) return "(native or GC)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith("node:")) return url;
  return path.basename(url);
}
