import type { VendorCapabilities } from "../../domain/capabilities.js";

/** Leanplum's documented bounds for one `multi` call; beyond them it answers 403 and runs nothing. */
export const MULTI_LIMITS = { maxUsers: 50, maxActions: 500 } as const;

/**
 * What setUserAttributes can carry without losing information (README.md "Capabilities"):
 * - SET: scalars, ISO-8601 dates (sent as strings) and string lists, the only list form Leanplum
 *   documents. Other lists are refused rather than sent in a shape Leanplum may store differently.
 * - INCREMENT: integers only; Leanplum skips an increment unless both delta and value are integers.
 * - ADD_TO_SET / REMOVE_FROM_SET: one string per attribute, the documented wire form
 *   (`{"Interests":"Sports"}`); whether a list is accepted there is unconfirmed.
 * - UNSET: the attribute set to null. SET_ONCE: Leanplum has no such operation.
 */
export const leanplumCapabilities: VendorCapabilities = {
  operations: {
    SET: ["string", "int", "float", "boolean", "dateTime", "stringList"],
    INCREMENT: ["int"],
    ADD_TO_SET: ["string"],
    REMOVE_FROM_SET: ["string"],
    UNSET: [],
  },
  profileFields: ["locale", "country", "region", "city", "timezone"],
  tags: { add: false, remove: false },
  readProfile: true,
  createsUsers: true,
  // One multi call takes 50 users; two in flight keep bulk jobs moving without crowding single updates.
  bulk: { chunkSize: MULTI_LIMITS.maxUsers, concurrency: 2 },
};
