/**
 * Bulk (issues 6 and 9): a bulkSetCustomAttribute job for 100,000 users against the four sandbox
 * vendors, with vendor rates scaled up (…_RATE_LIMIT) and the sandboxes' limits scaled to match:
 * achieved rate ÷ configured rate per vendor (from the calls each sandbox received and the span
 * between its first and last), rate-limit rejections (sandbox status counts), exact final counts,
 * and the subgraph process's peak RSS (VmHWM). Then the memory of a 1,000,000-id job: RSS before,
 * right after the submit, and peak while it runs; the job is cancelled after a while.
 *
 *   npm run bench:bulk -- [--users=100000] [--rates=carnival:600,jiguang:670,usercom:600,leanplum:20]
 *                         [--vendors=carnival,jiguang,leanplum,usercom] [--max-seconds=240]
 *                         [--each-vendor] (one job per vendor, each alone on the machine, instead of one
 *                         job for all of them: how fast each vendor's path goes when CPU is not shared)
 *                         [--million-seconds=40] [--skip-million] [--only-million] [--profile=DIR]
 *                         [--memory-limit-mb=512] (the third 1M run: the subgraph in a memory cgroup of that
 *                         size with no heap flag, as in a container with a memory limit; needs root; 0 skips)
 *                         [--node-args="--trace-gc"] (extra node options for the subgraph)
 *                         [--main=dist-bench/variants/NAME/src/main.js] (another build, see support/make-variant.ts)
 *                         [--env=NAME=value,…] (more variables for the subgraph)
 *                         [--strict-window] (every sandbox counts a strict sliding second at exactly the
 *                         configured rate, 429 with Retry-After: 1 beyond it, instead of Carnival's and User.com's
 *                         120% of it: how close to a vendor's documented limit the pacer holds)
 */
import { gql, round2 } from "./support/load.js";
import { cpuMsOf, liveHeapAfterFullGcs, machineFacts, parallelCapacity, memoryCgroup, memoryOf, sleep } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { ALL_VENDORS, args, nodeArgsOption, startFullSetup } from "./support/setups.js";
import { pacedRate } from "./support/vendor-figures.js";

const options = args();
// Measured before the servers start: what the cores give two busy processes at once.
const facts = { ...machineFacts(), parallelCapacity: String(await parallelCapacity()) };
/** --env=NAME=value,NAME=value: more variables for the subgraph (e.g. USERCOM_LOOKUP_CONCURRENCY=8). */
const extraEnv: Record<string, string> = Object.fromEntries(
  (options.env ?? "")
    .split(",")
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);

const SUBMIT = `mutation Bulk($input: AttributesBulkSetCustomAttributeInput!) {
  bulkSetCustomAttribute(input: $input) {
    __typename
    ... on AttributesBulkJob { id status }
    ... on AttributesError { code message }
  }
}`;
const JOB = `query Job($id: ID!) {
  attributeBulkJob(id: $id) {
    __typename
    ... on AttributesBulkJob {
      status
      progress { vendor total succeeded failed cancelled pending }
      failures(first: 20) { totalCount edges { node { userId vendor error { __typename code message } } } }
    }
  }
}`;
const CANCEL = `mutation Cancel($id: ID!) { cancelAttributeBulkJob(id: $id) { __typename ... on AttributesBulkJob { status } } }`;

interface Progress {
  vendor: string;
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  pending: number;
}

/**
 * Sandbox limit for a configured vendor rate: Carnival documents 120/s against the adapter's default 100/s; the same
 * headroom for User.com (no published limit); Jiguang's is the QPS it is given. With --strict-window, exactly the
 * configured rate.
 */
function sandboxLimit(vendor: string, rate: number): number | undefined {
  if (vendor === "carnival" || vendor === "usercom") return options["strict-window"] === undefined ? Math.ceil(rate * 1.2) : rate;
  if (vendor === "jiguang") return rate;
  return undefined; // Leanplum's sandbox has no rate window (it refuses concurrent requests per user)
}

async function runJob(params: {
  readonly users: number;
  readonly vendors: readonly string[];
  readonly rates: Readonly<Record<string, number>>;
  readonly maxSeconds: number;
  readonly label: string;
  readonly nodeArgs?: readonly string[];
  readonly memoryLimitMb?: number;
}) {
  const { users, vendors, rates } = params;
  const sandboxRateLimits: Record<string, number> = {};
  for (const [vendor, rate] of Object.entries(rates)) {
    const limit = sandboxLimit(vendor, rate);
    if (limit) sandboxRateLimits[vendor] = limit;
  }
  console.error(`[${params.label}] seeding ${users} users in the sandboxes…`);
  const setup = await startFullSetup({
    seedUsers: users,
    sandboxRateLimits,
    vendorRates: rates,
    env: {
      BULK_MAX_USER_IDS: String(Math.max(users, 100_000)),
      MAX_BODY_BYTES: String(Math.max(8 * 1_048_576, users * 24)),
      ...extraEnv,
    },
    vendorsNodeArgs: ["--max-old-space-size=16384"],
    ...(params.memoryLimitMb ? { subgraphMemoryLimitMb: params.memoryLimitMb } : {}),
    ...(options.main ? { subgraphMain: options.main } : {}),
    subgraphNodeArgs: [
      // One line per major GC in the log: the live heap after each full collection.
      "--trace-gc",
      ...(params.nodeArgs ?? []),
      ...(options.profile ? ["--cpu-prof", `--cpu-prof-dir=${options.profile}`] : []),
      ...nodeArgsOption(options),
    ],
  });
  try {
    const pid = setup.subgraph.pid;
    const memBefore = memoryOf(pid);
    const cpuBefore = { subgraph: cpuMsOf(pid), sandboxes: cpuMsOf(setup.vendors.pid) };
    await setup.vendors.mark();
    const userIds = Array.from({ length: users }, (_, i) => String(i + 1));
    const submitStarted = performance.now();
    const submitted = await gql(setup.subgraph.url, SUBMIT, {
      input: {
        userIds,
        attribute: "plan",
        value: { string: "gold" },
        vendors: vendors.map((v) => v.toUpperCase()),
      },
    });
    const submitMs = performance.now() - submitStarted;
    const memAfterSubmit = memoryOf(pid);
    const job = submitted.body?.data?.bulkSetCustomAttribute;
    if (job?.__typename !== "AttributesBulkJob") throw new Error(`submit failed: ${JSON.stringify(submitted.body).slice(0, 2000)}`);
    console.error(`[${params.label}] job ${job.id} accepted in ${Math.round(submitMs)} ms; RSS ${memAfterSubmit.rssMb.toFixed(0)} MB`);
    const started = performance.now();
    const samples: Array<{ t: number; rssMb: number; pending: Record<string, number> }> = [];
    let status = job.status as string;
    let last: any;
    let cancelledAt: number | undefined;
    while (true) {
      await sleep(1000);
      const t = (performance.now() - started) / 1000;
      last = (await gql(setup.subgraph.url, JOB, { id: job.id })).body?.data?.attributeBulkJob;
      status = last.status;
      const progress = last.progress as Progress[];
      const mem = memoryOf(pid);
      samples.push({
        t: Math.round(t),
        rssMb: Math.round(mem.rssMb),
        pending: Object.fromEntries(progress.map((p) => [p.vendor, p.pending])),
      });
      if (Math.round(t) % 5 === 0)
        console.error(
          `[${params.label}] t=${t.toFixed(0)} s ${status} RSS ${mem.rssMb.toFixed(0)} MB pending ${JSON.stringify(samples.at(-1)!.pending)}`,
        );
      if (!["QUEUED", "RUNNING"].includes(status)) break;
      if (cancelledAt === undefined && t > params.maxSeconds) {
        cancelledAt = t;
        await gql(setup.subgraph.url, CANCEL, { id: job.id });
        console.error(`[${params.label}] cancelled at t=${t.toFixed(0)} s`);
      }
    }
    const elapsedSec = (performance.now() - started) / 1000;
    const memEnd = memoryOf(pid);
    const subgraphCpuMs = cpuMsOf(pid) - cpuBefore.subgraph;
    const cpuShare = {
      subgraph: round2(subgraphCpuMs / 1000 / elapsedSec),
      sandboxes: round2((cpuMsOf(setup.vendors.pid) - cpuBefore.sandboxes) / 1000 / elapsedSec),
    };
    const stats = await setup.vendors.stats();
    const progress = last.progress as Progress[];
    const perVendor = vendors.map((vendor) => {
      const p = progress.find((x) => x.vendor.toLowerCase() === vendor)!;
      const s = stats[vendor]!;
      const achieved = s.spanMs > 0 ? (s.sinceMark - 1) / (s.spanMs / 1000) : NaN;
      const configured = rates[vendor];
      return {
        vendor,
        total: p.total,
        succeeded: p.succeeded,
        failed: p.failed,
        cancelled: p.cancelled,
        pending: p.pending,
        exact: p.succeeded + p.failed + p.cancelled === p.total && p.total === users,
        calls: s.sinceMark,
        spanSec: s.spanMs / 1000,
        achievedPerSec: Math.round(achieved),
        configuredPerSec: configured ?? null,
        pacedPerSec: configured === undefined ? null : pacedRate(vendor, configured),
        sandboxLimit: sandboxRateLimits[vendor] ?? null,
        ratioToConfigured: configured === undefined ? null : achieved / configured,
        ratioToPaced: configured === undefined ? null : achieved / pacedRate(vendor, configured),
        statuses: s.statuses,
        rejections429: s.statuses[429] ?? 0,
      };
    });
    const liveAfterFullGc = liveHeapAfterFullGcs(setup.subgraph.logFile).map((g) => g.mb);
    return {
      label: params.label,
      nodeArgs: params.nodeArgs ?? [],
      memoryLimitMb: params.memoryLimitMb ?? null,
      heap: {
        fullGcs: liveAfterFullGc.length,
        maxLiveAfterFullGcMb: Math.max(0, ...liveAfterFullGc),
        lastLiveAfterFullGcMb: liveAfterFullGc.at(-1) ?? null,
      },
      users,
      vendors,
      rates,
      sandboxRateLimits,
      status,
      cancelledAtSec: cancelledAt ?? null,
      submitMs: Math.round(submitMs),
      elapsedSec: Math.round(elapsedSec * 10) / 10,
      memory: {
        beforeSubmitMb: Math.round(memBefore.rssMb),
        afterSubmitMb: Math.round(memAfterSubmit.rssMb),
        peakMb: Math.round(memEnd.peakRssMb),
        endMb: Math.round(memEnd.rssMb),
      },
      perVendor,
      cpuCores: cpuShare,
      // The machine's capacity for this work: a saturated run makes about 1e6 ÷ this many calls per second per core.
      subgraphCpuMicrosPerCall: Math.round(
        (subgraphCpuMs * 1000) /
          Math.max(
            1,
            perVendor.reduce((sum, v) => sum + v.calls, 0),
          ),
      ),
      failures: last.failures,
      samples,
      warnings: setup.subgraph.warnings().length,
    };
  } finally {
    await setup.close();
  }
}

const vendors = (options.vendors ?? ALL_VENDORS.join(",")).split(",");
const rates = Object.fromEntries(
  (options.rates ?? "carnival:600,jiguang:670,usercom:600,leanplum:20").split(",").map((pair) => {
    const [vendor, rate] = pair.split(":");
    return [vendor!, Number(rate)];
  }),
);
const runs = [];
if (options["only-million"] === undefined) {
  const users = Number(options.users ?? 100_000);
  const maxSeconds = Number(options["max-seconds"] ?? 240);
  const label = `${Math.round(users / 1000)}k`;
  if (options["each-vendor"] === undefined) runs.push(await runJob({ users, vendors, rates, maxSeconds, label }));
  else
    for (const vendor of vendors)
      runs.push(
        await runJob({ users, vendors: [vendor], rates: { [vendor]: rates[vendor]! }, maxSeconds, label: `${label}, ${vendor} alone` }),
      );
}
if (options["skip-million"] === undefined) {
  const maxSeconds = Number(options["million-seconds"] ?? 40);
  // Node's default heap limit on this 24 GB machine lets garbage pile up far beyond the live set;
  // the second run caps the old generation as a container deployment would.
  const million = (label: string, extra: { nodeArgs?: string[]; memoryLimitMb?: number } = {}) =>
    runJob({ users: 1_000_000, vendors, rates, maxSeconds, label, ...extra });
  runs.push(await million("1M, default heap"));
  runs.push(await million("1M, capped heap", { nodeArgs: ["--max-old-space-size=256"] }));
  // What a container with a memory limit and no flag gets: Node sizes its heap from the cgroup's limit.
  const limitMb = Number(options["memory-limit-mb"] ?? 512);
  if (limitMb > 0) {
    try {
      await memoryCgroup(limitMb).remove(); // can one be made here?
      runs.push(await million(`1M, ${limitMb} MB memory cgroup, no flag`, { memoryLimitMb: limitMb }));
    } catch (error) {
      console.error(`skipped the ${limitMb} MB memory cgroup run: cannot create a cgroup here (${String(error)})`);
    }
  }
}

console.log(`\n## Bulk (${new Date().toISOString()})\n`);
console.log(`machine: ${JSON.stringify(facts)}\n`);
for (const run of runs) {
  console.log(
    `### ${run.label}${run.nodeArgs.length > 0 ? ` (node ${run.nodeArgs.join(" ")})` : ""}: ${run.users} users, vendors ${run.vendors.join(", ")}: ${run.status} after ${run.elapsedSec} s${run.cancelledAtSec ? ` (cancel requested at ${run.cancelledAtSec.toFixed(0)} s)` : ""}; submit took ${run.submitMs} ms\n`,
  );
  console.log(
    table(
      [
        "vendor",
        "total",
        "succeeded",
        "failed",
        "cancelled",
        "exact",
        "calls",
        "span s",
        "achieved/s",
        "configured/s",
        "paced/s",
        "sandbox limit/s",
        "achieved ÷ configured",
        "achieved ÷ paced",
        "429s",
      ],
      run.perVendor.map((v) => [
        v.vendor,
        v.total,
        v.succeeded,
        v.failed,
        v.cancelled,
        v.exact ? "yes" : "NO",
        v.calls,
        v.spanSec.toFixed(1),
        v.achievedPerSec,
        v.configuredPerSec ?? "-",
        v.pacedPerSec ?? "-",
        v.sandboxLimit ?? "-",
        v.ratioToConfigured?.toFixed(3) ?? "-",
        v.ratioToPaced?.toFixed(3) ?? "-",
        v.rejections429,
      ]),
    ),
  );
  console.log(
    `\nsubgraph RSS: before submit ${run.memory.beforeSubmitMb} MB, after submit ${run.memory.afterSubmitMb} MB, peak (VmHWM) ${run.memory.peakMb} MB, at end ${run.memory.endMb} MB; live heap after full GCs: max ${run.heap.maxLiveAfterFullGcMb} MB, last ${run.heap.lastLiveAfterFullGcMb} MB (${run.heap.fullGcs} full GCs); CPU used (cores): subgraph ${run.cpuCores.subgraph}, sandboxes ${run.cpuCores.sandboxes}; subgraph CPU per vendor call ${run.subgraphCpuMicrosPerCall} µs; failures ${run.failures.totalCount}; warnings logged ${run.warnings}\n`,
  );
}
console.log(`raw figures: ${writeOut("bulk", { facts, runs })}`);
