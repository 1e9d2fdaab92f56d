import type { VendorDeclaration } from "../domain/vendor.js";
import { vendorModules } from "./index.js";

/**
 * The registered vendors as the GraphQL layer may know them: each one's id (the `AttributesVendor`
 * enum) and declared options (`AttributesVendorOptionsInput`), and nothing it could call. The schema
 * is built from this list at import, so it is the same in every process and for every configuration.
 */
export const vendorDeclarations: readonly VendorDeclaration[] = vendorModules.map(({ id, options }) =>
  options ? { id, options } : { id },
);
