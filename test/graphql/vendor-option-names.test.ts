import "reflect-metadata";
import { describe, expect, it } from "@jest/globals";
import type { VendorOptionsSpec } from "../../src/domain/options.js";
import { registerVendorOptions } from "../../src/graphql/inputs/vendor-options.input.js";

const spec = (overrides: Partial<VendorOptionsSpec>): VendorOptionsSpec => ({
  name: "AttributesAcmeOptionsInput",
  description: "Acme's options.",
  fields: {},
  parse: (raw) => ({ ok: true, value: raw }),
  ...overrides,
});

/** README, "Names": a vendor's option types are this subgraph's types too, and follow its naming rule. */
describe("vendor option type names", () => {
  it("refuses an options input, a nested input or an enum whose name does not start with Attribute, before registering anything", () => {
    expect(() => registerVendorOptions([{ id: "acme", options: spec({ name: "AcmeOptionsInput" }) }])).toThrow(
      /must start with Attribute .*: AcmeOptionsInput$/,
    );
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
    expect(() => registerVendorOptions([{ id: "acme", options: nested }])).toThrow(/: Channel, EventInput$/);
  });
});
