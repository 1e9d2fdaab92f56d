/**
 * GUARANTEED delivery (issue 23) in shared mode: queued throughput per vendor at its limit, and a
 * single update's latency while a large retry backlog drains. support/shared.ts's layout: Redis,
 * the sandbox vendors in their own process, `--replicas` subgraph replicas (BULK_WORKER=false) and
 * `--workers` worker processes (`npm run worker`, which work the delivery queue), one credential per
 * vendor. The sandboxes count a strict sliding one-second window at exactly the limit (Leanplum's,
 * which has none, behind the bench's RateWindow), and every process gets the same …_RATE_LIMIT, as in
 * shared-budget.ts.
 *
 * 1. Drain, per vendor, one after another: the vendor's sandbox goes down (every call 503, the
 *    `down` fault through its admin route) and N GUARANTEED updates for N distinct users are sent
 *    through the replicas; it stays down for at least `--outage-seconds` and until every one was
 *    answered (each must be AttributesVendorDeliveryQueued, RETRYABLE_FAILURE). Then it comes up, and the
 *    workers drain the queue. Measured from the sandbox's journal (every write it accepted, per
 *    user, with its time): deliveries written per second over the middle 80% of the backlog's
 *    writes ("steady") and over all of them, ÷ the limit (and ÷ the rate the adapter paces at, today
 *    the limit for every vendor); 429s; time to empty (the queue
 *    depth on a replica's /metrics back at 0) from the moment the vendor came up; exactness (every
 *    user written exactly once; attributeDelivery DELIVERED with one delivered attempt for an
 *    evenly spread sample; the workers' attributes_deliveries_settled_total). Target: steady drain
 *    ÷ limit ≥ 0.9 with zero 429s.
 *
 *    After the first few failures a replica's circuit breaker opens and fails the rest fast
 *    (nothing sent) with a Retry-After of its remaining cooldown, so most of the backlog becomes
 *    due together when the circuit would half-open: the bench sets CIRCUIT_COOLDOWN_MS to
 *    `--circuit-cooldown-ms` (10 s; shipped 30 s) to keep the run short. Time to empty includes that
 *    wait; "first write" says how long after the vendor came up the drain started.
 *
 * 2. Latency, `--latency-vendor` (Carnival), `--rounds` rounds: single SYNC updates for other users at
 *    `--single-share` × the limit (spread over the replicas) for `--single-seconds`, once with no
 *    backlog and once while a backlog of the same size as in 1 drains (started once the drain is
 *    under way, checked to end before the queue is empty), order alternated each round. Latency
 *    from each request's due time (support/load.ts `paced`). p50/p99 per round and pooled, their
 *    ratios and the added p99.
 *
 *   npm run bench:delivery -- [--vendors=carnival,jiguang,leanplum,usercom]
 *        [--limits=carnival:200,jiguang:200,leanplum:40,usercom:200]
 *        [--backlog=N] (updates queued per vendor; default `--backlog-seconds`=20 seconds of its limit)
 *        [--outage-seconds=5] [--circuit-cooldown-ms=10000] [--inject-concurrency=16] (per replica)
 *        [--latency-vendor=carnival] [--rounds=2] (0: no latency part) [--single-share=0.1] [--single-seconds=10]
 *        [--sample=200] (attributeDelivery look-ups per backlog) [--replicas=2] [--workers=2]
 *        [--env=NAME=value,…] [--src=dist-bench/variants/NAME/src]
 */
import { gql, paced, quantile, round2 } from "./support/load.js";
import { machineFacts, parallelCapacity, sleep } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { args, rotatingBodies, updateBody } from "./support/setups.js";
import { coresBetween, envOption, startSharedSetup, usersFrom } from "./support/shared.js";
import { maxInWindow } from "./support/stats.js";
import {
  benchLimits,
  benchVendors,
  figuresOf,
  pacedRate as pacedAt,
  rateWindows,
  urlVariable,
  type JournalEntry,
} from "./support/vendor-figures.js";

const options = args();
const vendors = benchVendors(options.vendors);
const latencyVendor = options["latency-vendor"] ?? "carnival";
const limits = benchLimits([...new Set([...vendors, latencyVendor])], options.limits);
const backlogSeconds = Number(options["backlog-seconds"] ?? 20);
const outageSeconds = Number(options["outage-seconds"] ?? 5);
const cooldownMs = Number(options["circuit-cooldown-ms"] ?? 10_000);
const injectConcurrency = Number(options["inject-concurrency"] ?? 16);
const rounds = Number(options.rounds ?? 2);
const singleShare = Number(options["single-share"] ?? 0.1);
const singleSeconds = Number(options["single-seconds"] ?? 10);
const sampleSize = Number(options.sample ?? 200);
const replicaCount = Number(options.replicas ?? 2);
const workerCount = Number(options.workers ?? 2);

const pacedRate = (vendor: string): number => pacedAt(vendor, limits[vendor]!);
const backlogOf = (vendor: string): number => (options.backlog ? Number(options.backlog) : Math.round(limits[vendor]! * backlogSeconds));

// Users: part 1 writes 1..N at each vendor (separate sandboxes); each latency round's backlog has its own
// range after them, then the single updates' users, then the users of the calls that open a phase.
const part1Users = Math.max(0, ...vendors.map(backlogOf));
const latencyBacklog = rounds > 0 ? backlogOf(latencyVendor) : 0;
const firstSingleUser = part1Users + rounds * latencyBacklog + 1;
const singleUsers = 1_000;
const firstProbeUser = firstSingleUser + singleUsers;
const probeUsers = 1_000;

const SANDBOX_JOURNAL_LIMIT = 10_000;

const facts = { ...machineFacts(), parallelCapacity: String(await parallelCapacity()) };
const used = [...new Set([...vendors, ...(rounds > 0 ? [latencyVendor] : [])])];
const setup = await startSharedSetup({
  vendors: used,
  seedUsers: firstProbeUser + probeUsers,
  ...rateWindows(used, limits),
  vendorRates: Object.fromEntries(used.map((v) => [v, limits[v]!])),
  replicas: replicaCount,
  workers: workerCount,
  env: { CIRCUIT_COOLDOWN_MS: String(cooldownMs), ...envOption(options) },
  ...(options.src ? { srcDir: options.src } : {}),
});

// --- the sandboxes' admin routes (src/sandbox/kit.ts), reached over HTTP like any client ---

const sandboxOrigin = (vendor: string): string => new URL(setup.env[urlVariable(vendor)]!).origin;

/** Every call answers 503 until `up` (an hour's `down` fault, ended by clearing the faults). */
async function down(vendor: string): Promise<void> {
  const response = await fetch(`${sandboxOrigin(vendor)}/__sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ fault: "down;seconds=3600" }),
  });
  if (response.status !== 204) throw new Error(`${vendor}: down fault answered ${response.status}`);
}

async function up(vendor: string): Promise<void> {
  const response = await fetch(`${sandboxOrigin(vendor)}/__sandbox/faults`, { method: "DELETE" });
  if (response.status !== 204) throw new Error(`${vendor}: clearing faults answered ${response.status}`);
}

async function journal(vendor: string): Promise<JournalEntry[]> {
  return (await (await fetch(`${sandboxOrigin(vendor)}/__sandbox/journal`)).json()) as JournalEntry[];
}

// --- metrics (a replica's /metrics: the queue depth, read from Redis; the workers': what they settled) ---

function metricValues(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labels: Record<string, string> = {};
    const inside = /\{(.*)\}/.exec(line)?.[1] ?? "";
    for (const match of inside.matchAll(/(\w+)="([^"]*)"/g)) labels[match[1]!] = match[2]!;
    out.push({ labels, value: Number(line.slice(line.lastIndexOf(" ") + 1)) });
  }
  return out;
}

const metricsText = async (baseUrl: string): Promise<string> => (await fetch(new URL("/metrics", baseUrl))).text();

async function queueState(vendor: string): Promise<{ depth: number; oldestSec: number }> {
  const text = await metricsText(setup.replicas[0]!.url);
  const depth = metricValues(text, "attributes_delivery_queue_depth").find((m) => m.labels.vendor === vendor)?.value ?? 0;
  const oldestSec = metricValues(text, "attributes_delivery_oldest_queued_seconds").find((m) => m.labels.vendor === vendor)?.value ?? 0;
  return { depth, oldestSec };
}

async function settledByWorkers(vendor: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const worker of setup.workers) {
    for (const m of metricValues(await metricsText(worker.url), "attributes_deliveries_settled_total")) {
      if (m.labels.vendor !== vendor) continue;
      counts[m.labels.status!] = (counts[m.labels.status!] ?? 0) + m.value;
    }
  }
  return counts;
}

const delta = (before: Record<string, number>, after: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]): [string, number] => [k, v - (before[k] ?? 0)])
      .filter(([, v]) => v !== 0),
  );

/** Polls the queue depth every `everyMs` until it reads 0 (or `timeoutMs` passes). */
async function waitEmpty(
  vendor: string,
  timeoutMs: number,
  everyMs = 250,
): Promise<{ emptyAt: number | undefined; maxDepth: number; maxOldestSec: number }> {
  const deadline = Date.now() + timeoutMs;
  let maxDepth = 0;
  let maxOldestSec = 0;
  for (;;) {
    const { depth, oldestSec } = await queueState(vendor);
    maxDepth = Math.max(maxDepth, depth);
    maxOldestSec = Math.max(maxOldestSec, oldestSec);
    if (depth === 0) return { emptyAt: Date.now(), maxDepth, maxOldestSec };
    if (Date.now() > deadline) return { emptyAt: undefined, maxDepth, maxOldestSec };
    await sleep(everyMs);
  }
}

// --- GraphQL calls on the replicas ---

const UPDATE = `mutation Update($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) {
    __typename
    ... on AttributesUpdateSuccess {
      allDelivered
      deliveries {
        __typename
        ... on AttributesVendorDeliveryQueued { deliveryId reason attempts lastError { code vendorCode httpStatus } }
        ... on AttributesVendorError { code vendorCode }
      }
    }
  }
}`;
const DELIVERY = `query Delivery($id: ID!) {
  attributeDelivery(id: $id) { __typename ... on AttributeDelivery { status attempts { result } } ... on AttributesError { message } }
}`;

const updateInput = (vendor: string, userId: string, delivery: "SYNC" | "GUARANTEED"): Record<string, unknown> => ({
  input: {
    userId,
    vendors: [vendor.toUpperCase()],
    delivery,
    operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }],
  },
});

interface Injected {
  readonly ms: number;
  /** Answers by kind: "queued <reason> <last error>", or the error code, or the GraphQL type. */
  readonly answers: Record<string, number>;
  /** Delivery id per user, for those queued. */
  readonly ids: Map<string, string>;
}

/** GUARANTEED updates for `userIds`, `injectConcurrency` at a time per replica, spread over the replicas. */
async function inject(vendor: string, userIds: readonly string[]): Promise<Injected> {
  const answers: Record<string, number> = {};
  const ids = new Map<string, string>();
  let next = 0;
  const started = Date.now();
  const senders = setup.replicas.flatMap((replica) =>
    Array.from({ length: injectConcurrency }, async () => {
      while (next < userIds.length) {
        const userId = userIds[next++]!;
        let kind: string;
        try {
          const answer = await gql(replica.url, UPDATE, updateInput(vendor, userId, "GUARANTEED"));
          const result = answer.body?.data?.updateAttributes;
          const delivery = result?.deliveries?.[0];
          if (delivery?.__typename === "AttributesVendorDeliveryQueued") {
            ids.set(userId, delivery.deliveryId as string);
            const last = delivery.lastError;
            kind = `queued ${delivery.reason} (${last?.vendorCode ?? (last?.httpStatus ? `HTTP ${last.httpStatus}` : (last?.code ?? "-"))})`;
          } else kind = delivery?.code ?? delivery?.__typename ?? result?.__typename ?? `HTTP ${answer.status}`;
        } catch (error) {
          kind = `error ${String(error)}`;
        }
        answers[kind] = (answers[kind] ?? 0) + 1;
      }
    }),
  );
  await Promise.all(senders);
  return { ms: Date.now() - started, answers, ids };
}

/** One SYNC update per replica until each is delivered (closes a circuit left half-open by an outage; JIT warm-up). */
let probeCount = 0;
async function openPhase(vendor: string): Promise<number> {
  let tries = 0;
  for (const replica of setup.replicas) {
    for (;;) {
      tries++;
      const answer = await gql(replica.url, UPDATE, updateInput(vendor, String(firstProbeUser + (probeCount++ % probeUsers)), "SYNC"));
      if (answer.body?.data?.updateAttributes?.allDelivered === true) break;
      if (tries > 100) throw new Error(`${vendor}: no single update delivered: ${JSON.stringify(answer.body)}`);
      await sleep(200);
    }
  }
  return tries;
}

interface Exactness {
  readonly users: number;
  readonly written: number;
  readonly once: number;
  readonly twiceOrMore: number;
  readonly never: number;
  readonly journalFull: boolean;
  /** Write times of the backlog's users (epoch ms), ascending. */
  readonly times: number[];
  readonly statuses: Record<number, number>;
}

function exactness(vendor: string, entries: readonly JournalEntry[], userIds: readonly string[]): Exactness {
  const wanted = new Set(userIds);
  const writes = new Map<string, number>();
  const times: number[] = [];
  const statuses: Record<number, number> = {};
  for (const entry of entries) {
    statuses[entry.status] = (statuses[entry.status] ?? 0) + 1;
    if (entry.status < 200 || entry.status >= 300) continue;
    const user = figuresOf(vendor).writtenUser(entry);
    if (user === undefined || !wanted.has(user)) continue;
    writes.set(user, (writes.get(user) ?? 0) + 1);
    times.push(entry.at);
  }
  times.sort((a, b) => a - b);
  const counts = userIds.map((u) => writes.get(u) ?? 0);
  return {
    users: userIds.length,
    written: times.length,
    once: counts.filter((n) => n === 1).length,
    twiceOrMore: counts.filter((n) => n > 1).length,
    never: counts.filter((n) => n === 0).length,
    journalFull: entries.length >= SANDBOX_JOURNAL_LIMIT,
    times,
    statuses,
  };
}

/** attributeDelivery for `sampleSize` ids spread evenly over the backlog: statuses, and attempts by result. */
async function sampleDeliveries(ids: readonly string[]): Promise<{
  looked: number;
  statuses: Record<string, number>;
  deliveredAttempts: Record<string, number>;
  attempts: Record<string, number>;
}> {
  const step = Math.max(1, Math.floor(ids.length / sampleSize));
  const picked = ids.filter((_, i) => i % step === 0).slice(0, sampleSize);
  const statuses: Record<string, number> = {};
  const deliveredAttempts: Record<string, number> = {};
  const attempts: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < picked.length) {
        const id = picked[next++]!;
        const answer = await gql(setup.replicas[next % setup.replicas.length]!.url, DELIVERY, { id });
        const found = answer.body?.data?.attributeDelivery;
        const status = found?.__typename === "AttributeDelivery" ? (found.status as string) : `${found?.__typename}: ${found?.message}`;
        statuses[status] = (statuses[status] ?? 0) + 1;
        const results = ((found?.attempts ?? []) as Array<{ result: string }>).map((a) => a.result);
        const delivered = String(results.filter((r) => r === "DELIVERED").length);
        deliveredAttempts[delivered] = (deliveredAttempts[delivered] ?? 0) + 1;
        attempts[results.join(",")] = (attempts[results.join(",")] ?? 0) + 1;
      }
    }),
  );
  return { looked: picked.length, statuses, deliveredAttempts, attempts };
}

interface Backlog {
  readonly vendor: string;
  readonly users: number;
  readonly injectMs: number;
  readonly injectPerSec: number;
  readonly answers: Record<string, number>;
  readonly depthAtUp: number;
  readonly outageSec: number;
  readonly upAt: number;
  readonly ids: string[];
  readonly userIds: string[];
}

/** Takes the vendor down, queues one GUARANTEED update per user, keeps it down `--outage-seconds` at least, brings it up. */
async function makeBacklog(vendor: string, userIds: string[]): Promise<Backlog> {
  await down(vendor);
  const downAt = Date.now();
  const injected = await inject(vendor, userIds);
  const wait = downAt + outageSeconds * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
  const { depth } = await queueState(vendor);
  await up(vendor);
  const upAt = Date.now();
  return {
    vendor,
    users: userIds.length,
    injectMs: injected.ms,
    injectPerSec: round2(userIds.length / (injected.ms / 1000)),
    answers: injected.answers,
    depthAtUp: depth,
    outageSec: round2((upAt - downAt) / 1000),
    upAt,
    ids: userIds.map((u) => injected.ids.get(u)).filter((id): id is string => id !== undefined),
    userIds,
  };
}

interface Drain {
  readonly vendor: string;
  readonly limit: number;
  readonly pacedPerSec: number;
  readonly backlog: Omit<Backlog, "ids" | "userIds" | "upAt">;
  readonly emptySec: number | null;
  readonly maxOldestSec: number;
  readonly firstWriteSec: number;
  readonly spanSec: number;
  readonly overallPerSec: number;
  readonly steadyPerSec: number;
  readonly steadyRatio: number;
  readonly overallRatio: number;
  readonly busiestSecond: number;
  readonly rejected429: number;
  readonly statuses: Record<number, number>;
  readonly exact: Omit<Exactness, "times" | "statuses">;
  readonly settled: Record<string, number>;
  readonly sample: Awaited<ReturnType<typeof sampleDeliveries>>;
  readonly cores: Record<string, number>;
}

/** After `makeBacklog`: waits for the queue to empty, then reads the sandbox's journal and the deliveries. */
async function measureDrain(backlog: Backlog, settledBefore: Record<string, number>, cpuBefore: Record<string, number>, wallStart: number) {
  const { vendor } = backlog;
  const timeoutMs = cooldownMs + (backlog.users / pacedRate(vendor)) * 4_000 + 60_000;
  const drained = await waitEmpty(vendor, timeoutMs);
  const wallMs = Date.now() - wallStart;
  const cores = coresBetween(cpuBefore, setup.cpuMs(), wallMs);
  await sleep(300);
  const entries = await journal(vendor);
  const exact = exactness(vendor, entries, backlog.userIds);
  const settled = delta(settledBefore, await settledByWorkers(vendor));
  const sample = await sampleDeliveries(backlog.ids);
  const t = exact.times;
  const limit = limits[vendor]!;
  const span = t.length > 1 ? (t.at(-1)! - t[0]!) / 1000 : NaN;
  const overall = (t.length - 1) / span;
  const lo = Math.floor(t.length * 0.1);
  const hi = Math.min(t.length - 1, Math.floor(t.length * 0.9));
  const steady = (hi - lo) / ((t[hi]! - t[lo]!) / 1000);
  const { times: _, statuses, ...counts } = exact;
  const { ids: _ids, userIds: _users, upAt: _up, ...backlogFigures } = backlog;
  return {
    vendor,
    limit,
    pacedPerSec: pacedRate(vendor),
    backlog: backlogFigures,
    emptySec: drained.emptyAt === undefined ? null : round2((drained.emptyAt - backlog.upAt) / 1000),
    maxOldestSec: round2(drained.maxOldestSec),
    firstWriteSec: round2((t[0]! - backlog.upAt) / 1000),
    spanSec: round2(span),
    overallPerSec: round2(overall),
    steadyPerSec: round2(steady),
    steadyRatio: Math.round((steady / pacedRate(vendor)) * 1000) / 1000,
    overallRatio: Math.round((overall / pacedRate(vendor)) * 1000) / 1000,
    busiestSecond: maxInWindow(t, 1000),
    rejected429: statuses[429] ?? 0,
    statuses,
    exact: counts,
    settled,
    sample,
    cores,
  } satisfies Drain;
}

interface SinglesRun {
  readonly round: number;
  readonly setup: "no backlog" | "backlog draining";
  readonly sent: number;
  readonly delivered: number;
  readonly notDelivered: Record<string, number>;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly latencies: number[];
  /** With a backlog: the queue depth when the single updates ended (> 0: they ran within the drain). */
  readonly depthAtEnd?: number;
  readonly drain?: Drain;
  readonly probeTries: number;
}

let singleNext = 0;
const singleIds = usersFrom(firstSingleUser, singleUsers);
async function singles(
  vendor: string,
): Promise<Pick<SinglesRun, "sent" | "delivered" | "notDelivered" | "p50" | "p99" | "max" | "latencies">> {
  const notDelivered: Record<string, number> = {};
  let delivered = 0;
  const body = (): string => JSON.stringify(updateBody([vendor.toUpperCase()])(singleIds[singleNext++ % singleIds.length]!));
  const runs = await Promise.all(
    setup.replicas.map((replica) =>
      paced({
        url: replica.url,
        connections: 16,
        durationSec: singleSeconds,
        overallRate: (limits[vendor]! * singleShare) / setup.replicas.length,
        body,
        onBody: (status, text) => {
          const result = (
            JSON.parse(text) as { data?: { updateAttributes?: { allDelivered?: boolean; deliveries?: Array<{ code?: string }> } } }
          ).data?.updateAttributes;
          if (status === 200 && result?.allDelivered) delivered++;
          else {
            const code = result?.deliveries?.[0]?.code ?? `HTTP ${status}`;
            notDelivered[code] = (notDelivered[code] ?? 0) + 1;
          }
        },
      }),
    ),
  );
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return {
    sent: latencies.length,
    delivered,
    notDelivered,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: round2(latencies.at(-1) ?? NaN),
    latencies,
  };
}

const drains: Drain[] = [];
const singleRuns: SinglesRun[] = [];
try {
  // JIT warm-up of every replica's single-update path, outside any measurement.
  for (const replica of setup.replicas) {
    for (const vendor of used) {
      await paced({
        url: replica.url,
        connections: 4,
        durationSec: 1,
        overallRate: Math.min(10, limits[vendor]! / 4),
        body: rotatingBodies(10, updateBody([vendor.toUpperCase()])),
      });
    }
  }
  await sleep(1_000);

  // 1. Drain throughput per vendor.
  for (const vendor of vendors) {
    const users = usersFrom(1, backlogOf(vendor));
    await setup.vendors.clear();
    const settledBefore = await settledByWorkers(vendor);
    const cpuBefore = setup.cpuMs();
    const wallStart = Date.now();
    console.error(`[delivery] ${vendor}: down; ${users.length} GUARANTEED updates…`);
    const backlog = await makeBacklog(vendor, users);
    console.error(
      `[delivery] ${vendor}: queued in ${backlog.injectMs} ms (${JSON.stringify(backlog.answers)}), depth ${backlog.depthAtUp}; up after ${backlog.outageSec} s; draining…`,
    );
    const drain = await measureDrain(backlog, settledBefore, cpuBefore, wallStart);
    drains.push(drain);
    console.error(`[delivery] ${JSON.stringify(drain)}`);
    await sleep(1_000);
  }

  // 2. Single updates with and without a draining backlog, order alternated each round.
  for (let round = 1; round <= rounds; round++) {
    const order: Array<SinglesRun["setup"]> = round % 2 === 1 ? ["no backlog", "backlog draining"] : ["backlog draining", "no backlog"];
    for (const which of order) {
      const vendor = latencyVendor;
      if (which === "no backlog") {
        const probeTries = await openPhase(vendor);
        const measured = await singles(vendor);
        singleRuns.push({ round, setup: which, ...measured, probeTries });
      } else {
        const first = part1Users + (round - 1) * latencyBacklog + 1;
        const users = usersFrom(first, latencyBacklog);
        await setup.vendors.clear();
        const settledBefore = await settledByWorkers(vendor);
        const cpuBefore = setup.cpuMs();
        const wallStart = Date.now();
        console.error(`[delivery] round ${round}: ${vendor} down; ${users.length} GUARANTEED updates…`);
        const backlog = await makeBacklog(vendor, users);
        // Wait until the drain is under way: the sandbox has accepted a few of the backlog's writes.
        const enough = Math.max(20, Math.round(latencyBacklog * 0.02));
        const deadline = Date.now() + cooldownMs + 30_000;
        for (;;) {
          const statuses = (await setup.vendors.stats())[vendor]!.statuses;
          const ok = Object.entries(statuses)
            .filter(([code]) => Number(code) >= 200 && Number(code) < 300)
            .reduce((sum, [, n]) => sum + n, 0);
          if (ok >= enough) break;
          if (Date.now() > deadline) throw new Error(`${vendor}: the backlog did not start draining`);
          await sleep(100);
        }
        const probeTries = await openPhase(vendor);
        console.error(`[delivery] round ${round}: draining; single updates for ${singleSeconds} s…`);
        const measured = await singles(vendor);
        const { depth } = await queueState(vendor);
        const drain = await measureDrain(backlog, settledBefore, cpuBefore, wallStart);
        singleRuns.push({ round, setup: which, ...measured, depthAtEnd: depth, drain, probeTries });
      }
      console.error(`[delivery] ${JSON.stringify({ ...singleRuns.at(-1)!, latencies: undefined })}`);
      await sleep(1_000);
    }
  }
} finally {
  await setup.close();
}

const ratioText = (d: Drain): string => `${d.steadyRatio.toFixed(3)} (${d.overallRatio.toFixed(3)})`;
const drainVerdict = (d: Drain): string =>
  d.steadyRatio >= 0.9 &&
  d.rejected429 === 0 &&
  d.exact.once === d.exact.users &&
  !d.exact.journalFull &&
  d.emptySec !== null &&
  (d.sample.statuses.DELIVERED ?? 0) === d.sample.looked
    ? "met"
    : "MISSED";
const exactText = (d: Drain): string =>
  d.exact.journalFull
    ? `journal full (${SANDBOX_JOURNAL_LIMIT}): not checked`
    : `${d.exact.once}/${d.exact.users} once, ${d.exact.twiceOrMore} twice+, ${d.exact.never} never`;
const sampleText = (d: Drain): string =>
  `${d.sample.statuses.DELIVERED ?? 0}/${d.sample.looked} DELIVERED, ${d.sample.deliveredAttempts["1"] ?? 0} with one delivered attempt`;

console.log(
  `\n## GUARANTEED delivery: drain and single-update latency, ${replicaCount} replicas + ${workerCount} workers (${new Date().toISOString()})\n`,
);
console.log(`machine: ${JSON.stringify(facts)}\n`);
console.log(
  `sandboxes strict at the limit; outage ≥ ${outageSeconds} s and until every update was answered; CIRCUIT_COOLDOWN_MS=${cooldownMs}; ` +
    `drain rate ÷ limit (÷ pacer rate for Jiguang): middle 80% of the backlog's writes (all of them in brackets)\n`,
);
console.log(
  table(
    [
      "vendor",
      "limit/s (pacer)",
      "backlog",
      "queued in s (/s)",
      "answers",
      "depth at up",
      "outage s",
      "first write s after up",
      "drain s",
      "writes/s steady (all)",
      "÷ limit steady (all)",
      "busiest second",
      "429s",
      "empty s after up",
      "oldest queued s",
      "writes per user",
      "attributeDelivery sample",
      "settled (workers' metrics)",
      "target ≥ 0.9, 0 × 429, exact",
    ],
    drains.map((d) => [
      d.vendor,
      `${d.limit} (${d.pacedPerSec})`,
      d.backlog.users,
      `${round2(d.backlog.injectMs / 1000)} (${d.backlog.injectPerSec})`,
      JSON.stringify(d.backlog.answers),
      d.backlog.depthAtUp,
      d.backlog.outageSec,
      d.firstWriteSec,
      d.spanSec,
      `${d.steadyPerSec} (${d.overallPerSec})`,
      ratioText(d),
      d.busiestSecond,
      d.rejected429,
      d.emptySec ?? "not empty",
      d.maxOldestSec,
      exactText(d),
      sampleText(d),
      JSON.stringify(d.settled),
      drainVerdict(d),
    ]),
  ),
);
console.log("\nCPU (cores) per process from the outage to the empty queue:\n");
const names = [...new Set(drains.flatMap((d) => Object.keys(d.cores)))];
console.log(
  table(
    ["vendor", ...names],
    drains.map((d) => [d.vendor, ...names.map((n) => d.cores[n] ?? "-")]),
  ),
);

let latencySummary: Record<string, unknown> = {};
if (singleRuns.length > 0) {
  console.log(
    `\nSingle SYNC updates at ${latencyVendor}, ${singleShare} × the limit (${round2(limits[latencyVendor]! * singleShare)}/s over the replicas), ${singleSeconds} s per run, latency from each request's due time:\n`,
  );
  console.log(
    table(
      [
        "round",
        "setup",
        "sent",
        "delivered",
        "not delivered",
        "p50 ms",
        "p99 ms",
        "max ms",
        "depth at end",
        `backlog drain ÷ limit steady (all; singles take ${singleShare})`,
        "exact",
        "probe calls",
      ],
      singleRuns.map((r) => [
        r.round,
        r.setup,
        r.sent,
        r.delivered,
        JSON.stringify(r.notDelivered),
        r.p50,
        r.p99,
        r.max,
        r.depthAtEnd ?? "-",
        r.drain ? ratioText(r.drain) : "-",
        r.drain ? `${exactText(r.drain)}; ${r.drain.rejected429} × 429` : "-",
        r.probeTries,
      ]),
    ),
  );
  const pooled = (which: SinglesRun["setup"]): number[] =>
    singleRuns
      .filter((r) => r.setup === which)
      .flatMap((r) => r.latencies)
      .sort((a, b) => a - b);
  const without = pooled("no backlog");
  const withBacklog = pooled("backlog draining");
  const perRound = Array.from({ length: rounds }, (_, i) => {
    const a = singleRuns.find((r) => r.round === i + 1 && r.setup === "no backlog")!;
    const b = singleRuns.find((r) => r.round === i + 1 && r.setup === "backlog draining")!;
    return { round: i + 1, p50Ratio: round2(b.p50 / a.p50), p99Ratio: round2(b.p99 / a.p99), addedP99: round2(b.p99 - a.p99) };
  });
  latencySummary = {
    pooled: {
      withoutP50: quantile(without, 0.5),
      withoutP99: quantile(without, 0.99),
      withP50: quantile(withBacklog, 0.5),
      withP99: quantile(withBacklog, 0.99),
      p50Ratio: round2(quantile(withBacklog, 0.5) / quantile(without, 0.5)),
      p99Ratio: round2(quantile(withBacklog, 0.99) / quantile(without, 0.99)),
      addedP99: round2(quantile(withBacklog, 0.99) - quantile(without, 0.99)),
    },
    perRound,
  };
  console.log(`\nper round (backlog ÷ none): ${JSON.stringify(perRound)}`);
  console.log(`all rounds pooled: ${JSON.stringify(latencySummary.pooled)}`);
}

console.log(
  `raw figures: ${writeOut("delivery", {
    facts,
    limits,
    options: {
      backlogSeconds,
      outageSeconds,
      cooldownMs,
      injectConcurrency,
      latencyVendor,
      rounds,
      singleShare,
      singleSeconds,
      replicaCount,
      workerCount,
    },
    drains,
    singleRuns: singleRuns.map((r) => ({ ...r, latencies: undefined })),
    latency: latencySummary,
  })}`,
);
