/** Summarizes a V8 .cpuprofile: self time by function and by package or source folder. */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
  readonly children?: number[];
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly byFunction: Array<{ name: string; where: string; selfMs: number; share: number }>;
  readonly byArea: Array<{ area: string; selfMs: number; share: number }>;
  /** Inclusive time of frames whose location matches each given pattern. */
  readonly inclusive: Array<{ pattern: string; ms: number; share: number }>;
}

export function area(url: string): string {
  if (url === "") return "(native/vm)";
  if (url.startsWith("node:")) return url.split("/")[0]!.replace(/^node:internal.*/, "node:internal");
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /dist-bench\/(src\/[^/]+(?:\/[^/]+)?)/.exec(url);
  if (src) return src[1]!.replace(/\.js$/, "");
  return url;
}

export function summarize(file: string, inclusivePatterns: readonly string[] = []): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs].filter(([id]) => ["(idle)", "(program)", "(garbage collector)"].includes(byId.get(id)!.callFrame.functionName));
  void idle;
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? `${url.replace(/^.*\/(node_modules|dist-bench)\//, "$1/")}:${lineNumber + 1}` : "";
    const key = `${functionName}@${where}`;
    const entry = fn.get(key) ?? { name: functionName || "(anonymous)", where, us: 0 };
    entry.us += us;
    fn.set(key, entry);
    const a = functionName.startsWith("(") ? functionName : area(url);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  // Inclusive time: a sample counts once for a pattern if any frame on its stack matches.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = inclusivePatterns.map((pattern) => {
    let us = 0;
    for (const [id, self] of selfUs) {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const frame = byId.get(cur)!.callFrame;
        if (`${frame.functionName}@${frame.url}`.includes(pattern)) {
          us += self;
          break;
        }
      }
    }
    return { pattern, ms: us / 1000, share: us / total };
  });
  return {
    totalMs: total / 1000,
    byFunction: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: e.us / total })),
    byArea: [...areas].sort((a, b) => b[1] - a[1]).map(([a, us]) => ({ area: a, selfMs: us / 1000, share: us / total })),
    inclusive,
  };
}
