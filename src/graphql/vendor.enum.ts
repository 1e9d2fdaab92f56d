import { registerEnumType } from "type-graphql";

/**
 * The GraphQL `AttributesVendor` enum (CARNIVAL → "carnival"). Its values come from the vendor registry,
 * handed in by the composition root through `useVendorIds` before the schema is built; this layer
 * never names a vendor itself.
 */
export const Vendor: Record<string, string> = {};

registerEnumType(Vendor, {
  name: "AttributesVendor",
  description: "A customer-engagement vendor this subgraph can deliver attributes to.",
});

export function useVendorIds(ids: readonly string[]): void {
  for (const key of Object.keys(Vendor)) delete Vendor[key];
  for (const id of ids) Vendor[vendorEnumName(id)] = id;
}

export function vendorEnumName(id: string): string {
  return id.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
}
