/**
 * Rate budget (issue 22): several processes share one Carnival credential's budget and send as
 * fast as it lets them to a Carnival sandbox that counts a strict sliding second at exactly the
 * limit (its `rateLimitPerSecond` = the budget's rate, 429 with `Retry-After: 1` beyond it). Per run:
 * achieved ÷ limit (calls the sandbox accepted over the span of its arrivals), 429s, the most sends
 * in any sliding second (all processes' own clocks) and the most arrivals the sandbox counted in
 * one, the shortest time in which `rate + 1` sends went out and arrived (under 1,000 ms is what the
 * vendor refuses; the difference is how much arrivals bunched on the way), and Redis commands per
 * vendor call (INFO commandstats).
 *
 * Budgets: `local` (the in-process Pacer, one per process: run it with --processes=1), `lua`
 * (RedisPacer, the shipped shared budget), `rlflex` and `rlflex-even` (rate-limiter-flexible's
 * RateLimiterRedis behind its RateLimiterQueue, one-second fixed window, without and with execEvenly).
 *
 *   npm run bench:rate-budget -- [--impls=lua,rlflex] [--processes=3] [--rate=1000] [--seconds=10]
 *        [--concurrency=32] (callers per process) [--slacks=20] (ms; "default" = shipped)
 *        [--reactions=short] ("full": every 429 pauses 1 s, as before) [--rounds=1]
 *        [--late-tolerance=5] [--max-batch=64] [--users=1000]
 */
import { fork } from "node:child_process";
import path from "node:path";
import { machineFacts, parallelCapacity, sleep, startVendorsProcess, DIST } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { startBenchRedis } from "./support/redis-server.js";
import { args } from "./support/setups.js";
import type { BudgetImpl, SenderConfig, SenderResult } from "./support/budget-sender.js";
import { maxInWindow } from "./support/stats.js";

const options = args();
const list = (name: string, fallback: string): string[] => (options[name] ?? fallback).split(",").filter(Boolean);
const impls = list("impls", "lua,rlflex") as BudgetImpl[];
const processCounts = list("processes", "3").map(Number);
const rate = Number(options.rate ?? 1000);
const seconds = Number(options.seconds ?? 10);
const concurrency = Number(options.concurrency ?? 32);
const slacks = list("slacks", "default").map((s) => (s === "default" ? undefined : Number(s)));
const reactions = list("reactions", "short") as Array<SenderConfig["reaction"]>;
const rounds = Number(options.rounds ?? 1);
const users = Number(options.users ?? 1000);

/** The shortest time in which `k + 1` consecutive points occurred (under 1,000 ms: k + 1 in one second). */
function minSpan(sorted: readonly number[], k: number): number {
  let best = Infinity;
  for (let i = 0; i + k < sorted.length; i++) best = Math.min(best, sorted[i + k]! - sorted[i]!);
  return best;
}

interface RunResult {
  impl: BudgetImpl;
  processes: number;
  slackMs: number | null;
  reaction: string;
  round: number;
  sends: number;
  accepted: number;
  rejected429: number;
  spanSec: number;
  achievedPerSec: number;
  ratioToLimit: number;
  maxSendsInSecond: number;
  maxArrivalsInSecond: number;
  minSendSpanMs: number;
  minArrivalSpanMs: number;
  redisCommands: number;
  redisCommandsPerCall: number | null;
  roundTripsPerCall: number | null;
  droppedLate: number;
  senderCpuMsPerCall: number;
}

async function run(
  impl: BudgetImpl,
  processes: number,
  slackMs: number | undefined,
  reaction: SenderConfig["reaction"],
  round: number,
): Promise<RunResult> {
  const needsRedis = impl !== "local";
  const redis = needsRedis ? await startBenchRedis() : undefined;
  const vendors = await startVendorsProcess({
    vendors: ["carnival"],
    seedUsers: users,
    rateLimits: { carnival: rate },
    recordArrivals: true,
  });
  try {
    const env = vendors.envs.carnival!;
    await vendors.mark();
    await vendors.arrivals();
    await redis?.client.config("RESETSTAT");
    const startAt = Date.now() + 1_500;
    const children = Array.from({ length: processes }, (_, index) => {
      const config: SenderConfig = {
        impl,
        rate,
        ...(slackMs === undefined ? {} : { slackMs }),
        reaction,
        ...(redis ? { redisUrl: redis.url } : {}),
        key: `bench:rate:carnival:${round}`,
        baseUrl: env.CARNIVAL_API_URL!,
        apiKey: env.CARNIVAL_API_KEY!,
        startAt,
        seconds,
        concurrency,
        users,
        ...(options["late-tolerance"] ? { lateToleranceMs: Number(options["late-tolerance"]) } : {}),
        ...(options["max-batch"] ? { maxBatch: Number(options["max-batch"]) } : {}),
      };
      const child = fork(path.join(DIST, "bench/support/budget-sender.js"), [], {
        env: { ...process.env, BENCH_SENDER: JSON.stringify(config) },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      return new Promise<SenderResult>((resolve, reject) => {
        child.once("message", (message: SenderResult) => resolve(message));
        child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`sender ${index} exited with ${code}`))));
      });
    });
    const results = await Promise.all(children);
    const commands = redis ? await redis.commandCalls() : {};
    delete commands.config;
    const stats = await vendors.settledStats();
    const arrivals = (await vendors.arrivals()).sort((a, b) => a - b);
    const sends = results.flatMap((r) => r.sends).sort((a, b) => a - b);
    const statuses = stats.carnival!.statuses;
    const accepted = Object.entries(statuses).reduce((sum, [status, n]) => sum + (Number(status) < 300 ? n : 0), 0);
    const spanSec = (arrivals.at(-1)! - arrivals[0]!) / 1000;
    const achieved = accepted / spanSec;
    const redisCommands = Object.values(commands).reduce((sum, n) => sum + n, 0);
    const roundTrips = results.reduce((sum, r) => sum + (r.stats.roundTrips ?? 0), 0);
    const k = Math.floor(rate);
    return {
      impl,
      processes,
      slackMs: slackMs ?? null,
      reaction,
      round,
      sends: sends.length,
      accepted,
      rejected429: statuses[429] ?? 0,
      spanSec: Math.round(spanSec * 100) / 100,
      achievedPerSec: Math.round(achieved),
      ratioToLimit: Math.round((achieved / rate) * 1000) / 1000,
      maxSendsInSecond: maxInWindow(sends, 1000),
      maxArrivalsInSecond: maxInWindow(arrivals, 1000),
      minSendSpanMs: Math.round(minSpan(sends, k) * 10) / 10,
      minArrivalSpanMs: Math.round(minSpan(arrivals, k) * 10) / 10,
      redisCommands,
      redisCommandsPerCall: redis ? Math.round((redisCommands / sends.length) * 1000) / 1000 : null,
      roundTripsPerCall: impl === "lua" ? Math.round((roundTrips / sends.length) * 1000) / 1000 : null,
      droppedLate: results.reduce((sum, r) => sum + (r.stats.droppedLate ?? 0), 0),
      senderCpuMsPerCall: Math.round((results.reduce((sum, r) => sum + r.cpuMs, 0) / sends.length) * 1000) / 1000,
    };
  } finally {
    await vendors.close();
    await redis?.stop();
  }
}

const facts = { ...machineFacts(), parallelCapacity: String(await parallelCapacity()) };
const runs: RunResult[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const processes of processCounts)
    for (const impl of impls)
      for (const slackMs of slacks)
        for (const reaction of reactions) {
          if (impl.startsWith("rlflex") && (slackMs !== slacks[0] || reaction !== reactions[0])) continue; // neither applies
          console.error(
            `[rate-budget] round ${round}: ${impl}, ${processes} process(es), slack ${slackMs ?? "default"}, reaction ${reaction}…`,
          );
          runs.push(await run(impl, processes, slackMs, reaction, round));
          console.error(JSON.stringify(runs.at(-1)));
          await sleep(500);
        }
}

console.log(`\n## Rate budget (${new Date().toISOString()}): limit ${rate}/s, ${seconds} s, ${concurrency} callers per process\n`);
console.log(`machine: ${JSON.stringify(facts)}\n`);
console.log(
  table(
    [
      "budget",
      "processes",
      "slack ms",
      "429 reaction",
      "sends",
      "accepted",
      "429s",
      "achieved ÷ limit",
      "max sends in 1 s",
      "max arrivals in 1 s",
      `min span of ${Math.floor(rate) + 1} sends / arrivals ms`,
      "Redis cmds per call",
      "dropped late",
      "sender CPU ms per call",
    ],
    runs.map((r) => [
      r.impl,
      r.processes,
      r.slackMs ?? "default",
      r.impl.startsWith("rlflex") ? "block 1 s" : r.reaction,
      r.sends,
      r.accepted,
      r.rejected429,
      r.ratioToLimit.toFixed(3),
      r.maxSendsInSecond,
      r.maxArrivalsInSecond,
      `${r.minSendSpanMs} / ${r.minArrivalSpanMs}`,
      r.redisCommandsPerCall ?? "-",
      r.droppedLate,
      r.senderCpuMsPerCall,
    ]),
  ),
);
console.log(`raw figures: ${writeOut("rate-budget", { facts, rate, seconds, concurrency, runs })}`);
