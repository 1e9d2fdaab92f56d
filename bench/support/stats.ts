/**
 * Statistics the latency benchmarks share (bench/overhead.ts, bench/shared-latency.ts): the median
 * of per-round values with a bootstrap interval, and the difference of two setups' p99 with a
 * paired bootstrap over one-second blocks. Fixed seed: the same measurements give the same interval.
 */

/** The middle value; the mean of the two middle ones for an even count. */
export const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const BOOTSTRAP_ITERATIONS = 2_000;

/** One run's latencies by the second of the run each request was due in, keyed `round/second`. */
export function secondBlocks(round: number, latencies: readonly number[], dueSeconds: readonly number[]): Map<string, number[]> {
  const blocks = new Map<string, number[]>();
  latencies.forEach((latency, i) => {
    const key = `${round}/${dueSeconds[i]}`;
    const block = blocks.get(key) ?? [];
    block.push(latency);
    blocks.set(key, block);
  });
  return blocks;
}

/**
 * p99(build) − p99(baseline) over all requests, and a 95% percentile-bootstrap interval: blocks are
 * drawn with replacement as pairs (the same second of both setups), so the machine's stalls, which
 * hit both setups in that second, stay paired rather than counted as a difference.
 */
export function pairedP99Difference(
  buildBlocks: ReadonlyMap<string, number[]>,
  baselineBlocks: ReadonlyMap<string, number[]>,
  iterations: number,
): { estimate: number; low: number; high: number; pairs: number } {
  // Only seconds both setups have requests in can be paired.
  const keys = [...buildBlocks.keys()].filter((key) => baselineBlocks.has(key));
  const build = keys.map((key) => buildBlocks.get(key)!);
  const baseline = keys.map((key) => baselineBlocks.get(key)!);
  const count = keys.length;
  const p99Of = (blocks: readonly number[][], picks: readonly number[]): number => {
    const all = new Float64Array(picks.reduce((n, i) => n + blocks[i]!.length, 0));
    let at = 0;
    for (const i of picks) {
      all.set(blocks[i]!, at);
      at += blocks[i]!.length;
    }
    all.sort();
    return all[Math.min(all.length - 1, Math.floor(0.99 * all.length))]!;
  };
  const everyBlock = Array.from({ length: count }, (_, i) => i);
  const estimate = p99Of(build, everyBlock) - p99Of(baseline, everyBlock);
  const random = seededRandom();
  const differences = Array.from({ length: iterations }, () => {
    const picks = Array.from({ length: count }, () => Math.floor(random() * count));
    return p99Of(build, picks) - p99Of(baseline, picks);
  }).sort((a, b) => a - b);
  return {
    estimate,
    low: differences[Math.floor(0.025 * iterations)]!,
    high: differences[Math.floor(0.975 * iterations)]!,
    pairs: count,
  };
}

/** A fixed seed (mulberry32): the same measurements always give the same interval. */
export function seededRandom(): () => number {
  let seed = 0x9e3779b9;
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A 95% percentile-bootstrap interval of the median of per-round values (each round's ratio came
 * from setups measured back to back or at once, so rounds are the independent units).
 */
export function medianInterval(values: readonly number[], iterations = BOOTSTRAP_ITERATIONS): { low: number; high: number } {
  const random = seededRandom();
  const medians = Array.from({ length: iterations }, () =>
    median(Array.from({ length: values.length }, () => values[Math.floor(random() * values.length)]!)),
  ).sort((a, b) => a - b);
  return { low: medians[Math.floor(0.025 * iterations)]!, high: medians[Math.floor(0.975 * iterations)]! };
}

/** The most points in any half-open interval [t, t + windowMs). */
export function maxInWindow(sorted: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
