/** Process setups shared by several benchmarks. */
import { startScript, startSubgraph, startVendorsProcess, subgraphEnv, type ServerProcess, type VendorsProcess } from "./proc.js";
import { gql } from "./load.js";
import { vendorModules } from "../../src/vendors/index.js";

export const UPDATE_MUTATION = `mutation Update($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) {
    __typename
    ... on AttributesUpdateSuccess {
      allDelivered
      deliveries {
        __typename
        ... on AttributesVendorDeliverySuccess { vendor }
        ... on AttributesVendorError { vendor code message retryable }
      }
    }
    ... on AttributesInvalidInputError { message }
  }
}`;

export const BASELINE_MUTATION = `mutation Update($userId: ID!) {
  updateAttribute(userId: $userId, attribute: "plan", value: "gold") { delivered status }
}`;

/** Request bodies that rotate over users 1..n, so no vendor sees one user hammered. */
export function rotatingBodies(n: number, make: (userId: string) => unknown): () => string {
  const bodies = Array.from({ length: n }, (_, i) => JSON.stringify(make(String(i + 1))));
  let next = 0;
  return () => bodies[next++ % n]!;
}

export const updateBody = (vendors: readonly string[]) => (userId: string) => ({
  query: UPDATE_MUTATION,
  variables: {
    input: {
      userId,
      vendors,
      operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }],
    },
  },
});

export interface OverheadSetup {
  readonly vendors: VendorsProcess;
  /** The subgraph's environment, to start variants the same way. */
  readonly subgraphEnv: NodeJS.ProcessEnv;
  readonly subgraph: ServerProcess;
  readonly apollo?: ServerProcess;
  readonly raw?: ServerProcess;
  close(): Promise<void>;
}

/**
 * Carnival's sandbox in its own process with its rate limit lifted, the subgraph pointed at it with
 * CARNIVAL_RATE_LIMIT lifted too (pacing is not what is measured), and optionally the baselines.
 */
export async function startOverheadSetup(options: {
  baselines: boolean;
  subgraphNodeArgs?: string[];
  apolloNodeArgs?: string[];
  /** Environment for the subgraph and the Apollo baseline alike (e.g. LOG_LEVEL, DIAGNOSTICS_FILE). */
  env?: Record<string, string>;
}): Promise<OverheadSetup> {
  const vendors = await startVendorsProcess({
    vendors: ["carnival"],
    seedUsers: 1000,
    rateLimits: { carnival: 1_000_000_000 },
  });
  const carnival = vendors.envs.carnival!;
  const env = subgraphEnv({ ...carnival, CARNIVAL_RATE_LIMIT: "1000000000", ...options.env });
  const subgraph = await startSubgraph(env, options.subgraphNodeArgs);
  const check = await gql(subgraph.url, UPDATE_MUTATION, updateBody(["CARNIVAL"])("1").variables);
  if (check.body?.data?.updateAttributes?.allDelivered !== true) throw new Error(`subgraph check failed: ${JSON.stringify(check.body)}`);
  let apollo: ServerProcess | undefined;
  let raw: ServerProcess | undefined;
  if (options.baselines) {
    apollo = await startScript(
      "baseline-apollo.js",
      {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        BASELINE_TARGET_URL: carnival.CARNIVAL_API_URL,
        BASELINE_AUTHORIZATION: `Basic ${Buffer.from(`:${carnival.CARNIVAL_API_KEY}`).toString("base64")}`,
        ...options.env,
      },
      options.apolloNodeArgs,
    );
    const base = await gql(apollo.url, BASELINE_MUTATION, { userId: "1" });
    if (base.body?.data?.updateAttribute?.delivered !== true) throw new Error(`baseline check failed: ${JSON.stringify(base.body)}`);
    // The raw server answers exactly what the subgraph answered.
    raw = await startScript("baseline-raw.js", {
      PATH: process.env.PATH,
      BASELINE_PAYLOAD: JSON.stringify(check.body),
    });
  }
  return {
    vendors,
    subgraphEnv: env,
    subgraph,
    ...(apollo ? { apollo } : {}),
    ...(raw ? { raw } : {}),
    async close() {
      await Promise.all([subgraph.close(), apollo?.close(), raw?.close()]);
      await vendors.close();
    },
  };
}

/** Parses `--name=value` arguments. */
export function args(): Record<string, string> {
  return Object.fromEntries(
    process.argv
      .slice(2)
      .filter((a) => a.startsWith("--"))
      .map((a) => {
        const [name, ...value] = a.slice(2).split("=");
        return [name!, value.length > 0 ? value.join("=") : "true"];
      }),
  );
}

/** `--node-args="--a --b"`: node flags for the servers under test, space-separated. */
export function nodeArgsOption(options: Record<string, string>): string[] {
  return (options["node-args"] ?? "").split(" ").filter(Boolean);
}

/** Every registered vendor, so a new one is benchmarked as soon as it is registered. */
export const ALL_VENDORS: readonly string[] = vendorModules.map((m) => m.id);
/** Each vendor's variable ending in `suffix` (every vendor declares its rate limit and timeout). */
const variableEnding = (suffix: string): Record<string, string> =>
  Object.fromEntries(
    vendorModules.map((m) => {
      const name = Object.keys(m.env).find((variable) => variable.endsWith(suffix));
      if (!name) throw new Error(`vendor ${m.id} declares no …${suffix} variable`);
      return [m.id, name];
    }),
  );
export const RATE_ENV = variableEnding("_RATE_LIMIT");
export const TIMEOUT_ENV = variableEnding("_TIMEOUT_MS");

export interface FullSetup {
  readonly vendors: VendorsProcess;
  readonly subgraph: ServerProcess;
  close(): Promise<void>;
}

/**
 * The four sandboxes in their own process and the subgraph (its real entry point) pointed at them.
 * `sandboxRateLimits` sets the sandboxes' limits; `vendorRates` the adapters' (…_RATE_LIMIT).
 */
export async function startFullSetup(options: {
  readonly seedUsers: number;
  readonly sandboxRateLimits?: Readonly<Record<string, number>>;
  readonly vendorRates?: Readonly<Record<string, number>>;
  readonly delaysMs?: Readonly<Record<string, number>>;
  readonly faults?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly subgraphNodeArgs?: string[];
  readonly vendorsNodeArgs?: string[];
  /** Another build of the subgraph's main.js (support/make-variant.ts). */
  readonly subgraphMain?: string;
  /** Runs the subgraph in a memory cgroup of this size (a container's memory limit). */
  readonly subgraphMemoryLimitMb?: number;
}): Promise<FullSetup> {
  const vendors = await startVendorsProcess(
    {
      seedUsers: options.seedUsers,
      ...(options.sandboxRateLimits ? { rateLimits: options.sandboxRateLimits } : {}),
      ...(options.delaysMs ? { delaysMs: options.delaysMs } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
    },
    options.vendorsNodeArgs,
  );
  try {
    const env: Record<string, string | undefined> = {};
    for (const id of ALL_VENDORS) Object.assign(env, vendors.envs[id]);
    for (const [id, rate] of Object.entries(options.vendorRates ?? {})) env[RATE_ENV[id]!] = String(rate);
    Object.assign(env, options.env);
    const subgraph = await startSubgraph(
      subgraphEnv(env),
      options.subgraphNodeArgs,
      options.subgraphMain,
      options.subgraphMemoryLimitMb ? { memoryLimitMb: options.subgraphMemoryLimitMb } : {},
    );
    return {
      vendors,
      subgraph,
      async close() {
        await subgraph.close();
        await vendors.close();
      },
    };
  } catch (error) {
    await vendors.close();
    throw error;
  }
}
