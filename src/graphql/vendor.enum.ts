import { registerEnumType } from "type-graphql";
import { vendorDeclarations } from "../vendors/declarations.js";

function vendorEnumName(id: string): string {
  return id.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
}

/**
 * The GraphQL `AttributesVendor` enum (CARNIVAL → "carnival"): one value per registered vendor,
 * whether or not this deployment configures it (an unconfigured one answers
 * AttributesVendorNotConfiguredError), so the schema never changes with configuration.
 */
export const Vendor: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(vendorDeclarations.map(({ id }) => [vendorEnumName(id), id])),
);

registerEnumType(Vendor, {
  name: "AttributesVendor",
  description: "A customer-engagement vendor this subgraph can deliver attributes to.",
});
