import type { VendorCapabilities } from "../../domain/capabilities.js";

/**
 * User.com sets values (PUT users-by-id) and removes them through dedicated endpoints
 * (remove_attribute, remove_tag). It has no set-once, counter or set operations, and no list type
 * for custom attributes. `locale` has no User.com field. PUT by custom id never creates a user.
 * Bulk jobs use the mass-update endpoint (UserComAdapter.setForMany).
 */
export const usercomCapabilities: VendorCapabilities = {
  operations: {
    SET: ["string", "int", "float", "boolean", "dateTime"],
    UNSET: [],
  },
  profileFields: ["email", "firstName", "lastName", "phone", "country", "region", "city", "timezone"],
  tags: { add: true, remove: true },
  readProfile: true,
  createsUsers: false,
  /**
   * setForMany resolves each custom id (one GET, batched) and sends USERCOM_MASS_UPDATE_CHUNK_SIZE
   * internal ids per mass-update call, overlapping the next look-ups; 500 users per call keeps
   * progress reports frequent.
   */
  bulk: { chunkSize: 500, concurrency: 2 },
};
