import type { VendorCapabilities } from "../../domain/capabilities.js";

/**
 * Carnival's users endpoint only merges typed custom attributes: no set-once, counters, set
 * operations, removal, tags or standard fields. Booleans cannot be sent as arrays.
 */
export const carnivalCapabilities: VendorCapabilities = {
  operations: {
    SET: ["string", "int", "float", "boolean", "dateTime", "stringList", "intList", "floatList", "dateTimeList"],
  },
  profileFields: [],
  tags: { add: false, remove: false },
  readProfile: false,
  createsUsers: false,
};
