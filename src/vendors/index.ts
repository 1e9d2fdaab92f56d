import type { VendorModule } from "./define-vendor.js";
import * as registry from "./registry.js";

/** The registered vendors, in registry order. Only the composition root and tests use this. */
export const vendorModules: readonly VendorModule[] = Object.values(registry);
