import type { VendorCapabilities } from "../../domain/capabilities.js";

/**
 * Jiguang's attribute endpoint writes a value; what the write does is the attribute's own rule
 * (once only → SET_ONCE, overwrite → SET, accumulate → INCREMENT, append → ADD_TO_SET), checked
 * per attribute against the catalog by the mapper. LIST attributes hold strings, so the only list
 * kind is stringList. There is no removal from lists, no unset, no standard profile field, no
 * tag and no read-back in this API; a CUID must exist before it can be written.
 *
 * `bulk`: writes stay one user per call, but a chunk's CUIDs are looked up together (Get CUID
 * takes 100 values), which a user-by-user fan-out cannot do. Two chunks overlap so that one's
 * look-up runs while the other's writes finish; the shared pacer sets the rate.
 */
export const jiguangCapabilities: VendorCapabilities = {
  operations: {
    SET: ["string", "int", "float", "boolean", "dateTime", "stringList"],
    SET_ONCE: ["string", "int", "float", "boolean", "dateTime", "stringList"],
    INCREMENT: ["int", "float"],
    ADD_TO_SET: ["string", "stringList"],
  },
  profileFields: [],
  tags: { add: false, remove: false },
  readProfile: false,
  createsUsers: false,
  bulk: { chunkSize: 100, concurrency: 2 },
};
