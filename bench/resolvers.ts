/**
 * The resolver layer alone (issue 9), in one process: `updateAttributes` through type-graphql's own
 * resolver function against the direct one the subgraph uses (src/graphql/direct-resolvers.ts),
 * each call with the variable coercion graphql-js does first, the resolver's validation and
 * dispatch, and a vendor adapter that answers at once (no HTTP: only the layer is measured).
 * Blocks of calls alternate between the two, so the machine's drift hits both alike; the figure
 * is the median of the per-pair ratios. Rerun it after a type-graphql upgrade: if its conversion
 * gets cheap, direct-resolvers.ts can go.
 *
 *   npm run bench:resolvers -- [--blocks=40] [--calls=2000]
 */
import "reflect-metadata";
import { getOperationAST, getVariableValues, parse, type GraphQLResolveInfo } from "graphql";
import { buildSchema, createResolversMap } from "type-graphql";
import { DEFAULT_INPUT_LIMITS } from "../src/domain/command.js";
import { RequestScope } from "../src/domain/scope.js";
import type { Vendor } from "../src/domain/vendor.js";
import { directResolvers } from "../src/graphql/direct-resolvers.js";
import { buildSubgraph, RESOLVER_CLASSES } from "../src/graphql/schema.js";
import { vendorModules } from "../src/vendors/index.js";
import { median } from "./support/load.js";
import { machineFacts } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { args, UPDATE_MUTATION, updateBody } from "./support/setups.js";

type Resolve = (root: unknown, args: Record<string, unknown>, context: unknown, info: GraphQLResolveInfo) => unknown;

if (process.env.NODE_ENV !== "production")
  throw new Error("run with NODE_ENV=production, as the subgraph runs (graphql-js checks more otherwise)");
const options = args();
const blocks = Number(options.blocks ?? 40);
const calls = Number(options.calls ?? 2000);

const { schema } = await buildSubgraph(vendorModules);
const typeGraphQL = createResolversMap(await buildSchema({ resolvers: RESOLVER_CLASSES, validate: false, skipCheck: true })) as Record<
  string,
  Record<string, Resolve>
>;
const resolvers: Record<string, Resolve> = {
  typeGraphQL: typeGraphQL.Mutation!.updateAttributes!,
  direct: directResolvers(RESOLVER_CLASSES).Mutation!.updateAttributes! as Resolve,
};

const operation = getOperationAST(parse(UPDATE_MUTATION))!;
const variables = updateBody(["CARNIVAL"])("1").variables;
const carnival = vendorModules.find((m) => m.id === "carnival")!;
const vendor: Vendor = {
  id: carnival.id,
  displayName: carnival.displayName,
  capabilities: carnival.capabilities,
  mode: "live",
  adapter: { update: () => Promise.resolve({ ok: true, vendor: carnival.id, warnings: [] }) },
};
const context = () => ({
  requestId: "bench",
  scope: new RequestScope(),
  vendors: [vendor],
  limits: DEFAULT_INPUT_LIMITS,
  dispatchHooks: {},
  caller: { kind: "open" },
});
const info = {} as GraphQLResolveInfo;

async function call(resolve: Resolve): Promise<void> {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  if (coerced.errors) throw new Error(coerced.errors.map((e) => e.message).join("; "));
  const result = (await resolve(undefined, coerced.coerced, context(), info)) as { allDelivered?: boolean };
  if (result.allDelivered !== true) throw new Error(`unexpected result ${JSON.stringify(result)}`);
}

const perCall: Record<string, number[]> = { typeGraphQL: [], direct: [] };
for (let i = 0; i < 1000; i++) for (const resolve of Object.values(resolvers)) await call(resolve);
for (let block = 0; block < blocks; block++) {
  for (const name of block % 2 === 0 ? ["typeGraphQL", "direct"] : ["direct", "typeGraphQL"]) {
    const started = process.cpuUsage();
    for (let i = 0; i < calls; i++) await call(resolvers[name]!);
    const used = process.cpuUsage(started);
    perCall[name]!.push((used.user + used.system) / calls);
  }
}

const ratios = perCall.direct!.map((d, i) => d / perCall.typeGraphQL![i]!);
const summary = {
  typeGraphQLMicros: median(perCall.typeGraphQL!),
  directMicros: median(perCall.direct!),
  directOverTypeGraphQL: median(ratios),
  ratioRange: [Math.min(...ratios), Math.max(...ratios)],
};
console.log(`\n## Resolver layer (${new Date().toISOString()})\n\nmachine: ${JSON.stringify(machineFacts())}\n`);
console.log(`${blocks} pairs of blocks of ${calls} calls, alternating:\n`);
console.log(
  table(
    ["resolver", "CPU µs per call (median of blocks)", "direct ÷ type-graphql (median of pairs)", "range"],
    [
      ["type-graphql's", summary.typeGraphQLMicros.toFixed(1), "", ""],
      [
        "direct",
        summary.directMicros.toFixed(1),
        summary.directOverTypeGraphQL.toFixed(3),
        `${summary.ratioRange[0]!.toFixed(3)}–${summary.ratioRange[1]!.toFixed(3)}`,
      ],
    ],
  ),
);
console.log(`\nraw figures: ${writeOut("resolvers", { perCall, summary })}`);
