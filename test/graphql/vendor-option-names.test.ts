import "reflect-metadata";
import { describe, expect, it } from "@jest/globals";
import type { VendorOptionsSpec } from "../../src/domain/options.js";
import { misnamedOptionTypes } from "../../src/graphql/inputs/vendor-options.input.js";
import { vendorDeclarations } from "../../src/vendors/declarations.js";

const spec = (overrides: Partial<VendorOptionsSpec>): VendorOptionsSpec => ({
  name: "AttributesAcmeOptionsInput",
  description: "Acme's options.",
  fields: {},
  parse: (raw) => ({ ok: true, value: raw }),
  ...overrides,
});

/** README, "Names": a vendor's option types are this subgraph's types too, and follow its naming rule. */
describe("vendor option type names", () => {
  it("finds an options input, a nested input or an enum whose name does not start with Attribute (the schema module refuses them at import)", () => {
    expect(misnamedOptionTypes([{ id: "acme", options: spec({ name: "AcmeOptionsInput" }) }])).toEqual(["AcmeOptionsInput"]);
    expect(misnamedOptionTypes([{ id: "acme", options: spec({}) }])).toEqual([]);
    const nested = spec({
      fields: {
        channel: { type: "enum", name: "Channel", values: ["EMAIL"], description: "A channel." },
        event: {
          type: "object",
          name: "EventInput",
          description: "An event.",
          fields: { name: { type: "string", description: "Its name." } },
        },
      },
    });
    expect(misnamedOptionTypes([{ id: "acme", options: nested }])).toEqual(["Channel", "EventInput"]);
  });

  it("holds for every registered vendor", () => {
    expect(misnamedOptionTypes(vendorDeclarations)).toEqual([]);
  });
});
