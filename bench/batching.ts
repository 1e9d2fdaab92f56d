/**
 * Batching (issue 9): `_entities` for 100 users with `attributeProfiles` on every vendor, as the
 * router sends it, counting the calls each sandbox received (from its journal). Also the
 * DataLoader's de-duplication (every user named twice) and two sequential operations (no cache
 * across operations, by design). Call counts, not timings: figures are exact.
 *
 *   npm run bench:batching
 */
import { gql } from "./support/load.js";
import { machineFacts } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { ALL_VENDORS, startFullSetup } from "./support/setups.js";

const ENTITIES = `query Profiles($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on User {
      id
      attributeProfiles {
        __typename
        ... on AttributesVendorProfile { vendor }
        ... on AttributesVendorError { vendor code }
      }
    }
  }
}`;

const facts = machineFacts();
const setup = await startFullSetup({ seedUsers: 1000 });
const users = (ids: string[]) => ({
  representations: ids.map((id) => ({ __typename: "User", id })),
});
const hundred = Array.from({ length: 100 }, (_, i) => String(i + 1));
const scenarios: Array<{ name: string; ids: string[] }> = [
  { name: "100 distinct users", ids: hundred },
  { name: "100 users, each named twice (200 representations)", ids: [...hundred, ...hundred] },
  { name: "1 user", ids: ["1"] },
];
type Row = {
  scenario: string;
  representations: number;
  byVendor: Record<string, Record<string, number>>;
  typenames: Record<string, number>;
  ms: number;
};
const rows: Row[] = [];
try {
  for (const scenario of scenarios) {
    await setup.vendors.clear();
    const started = performance.now();
    const response = await gql(setup.subgraph.url, ENTITIES, users(scenario.ids));
    const ms = performance.now() - started;
    if (response.body.errors) throw new Error(`errors: ${JSON.stringify(response.body.errors)}`);
    const typenames: Record<string, number> = {};
    for (const entity of response.body.data._entities as Array<{
      attributeProfiles: Array<{ __typename: string; vendor: string; code?: string }>;
    }>) {
      for (const p of entity.attributeProfiles) {
        const key = `${p.vendor}: ${p.__typename}${p.code ? ` (${p.code})` : ""}`;
        typenames[key] = (typenames[key] ?? 0) + 1;
      }
    }
    rows.push({
      scenario: scenario.name,
      representations: scenario.ids.length,
      byVendor: await setup.vendors.journal(),
      typenames,
      ms: Math.round(ms),
    });
  }
  const ideal: Record<string, string> = {
    carnival: "0: no read API (typed AttributesUnsupportedOperationError)",
    jiguang: "0: no read API (typed AttributesUnsupportedOperationError)",
    leanplum: "one exportUser per distinct user: Leanplum has no batch read; at most LEANPLUM_READ_CONCURRENCY (8) in flight",
    usercom:
      "one GET /users-by-id/ per distinct user: no batch read by custom id; at most USERCOM_LOOKUP_CONCURRENCY (4) in flight, paced at USERCOM_RATE_LIMIT (20/s)",
  };
  console.log(`\n## Batching (${new Date().toISOString()})\n`);
  console.log(`machine: ${JSON.stringify(facts)}\n`);
  console.log(
    table(
      ["scenario", "vendor", "calls received (journal)", "ideal for this vendor"],
      rows.flatMap((r) =>
        ALL_VENDORS.map((v) => [
          r.scenario,
          v,
          Object.entries(r.byVendor[v] ?? {})
            .map(([k, n]) => `${n} × ${k}`)
            .join(", ") || "0",
          ideal[v]!,
        ]),
      ),
    ),
  );
  console.log();
  console.log(
    table(
      ["scenario", "results by vendor and type", "wall ms (one request)"],
      rows.map((r) => [r.scenario, JSON.stringify(r.typenames), r.ms]),
    ),
  );
  console.log(`raw figures: ${writeOut("batching", { facts, rows })}`);
} finally {
  await setup.close();
}
