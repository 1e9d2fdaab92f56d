import type { VendorCapabilities } from "./capabilities.js";
import type { UpdateCommand } from "./command.js";
import { vendorFailure, type VendorFailure } from "./failures.js";
import { setProfileFields } from "./profile.js";

/** Every part of the command the vendor cannot perform, as typed failures. Empty when all is supported. */
export function unsupportedParts(command: UpdateCommand, vendor: string, capabilities: VendorCapabilities): VendorFailure[] {
  const failures: VendorFailure[] = [];
  for (const operation of command.operations) {
    const accepted = capabilities.operations[operation.kind];
    if (!accepted) {
      failures.push(
        vendorFailure("UNSUPPORTED_OPERATION", vendor, `${vendor} does not support ${operation.kind}`, {
          attribute: operation.attribute,
          operation: operation.kind,
        }),
      );
    } else if (operation.kind !== "UNSET" && !accepted.includes(operation.value.kind)) {
      failures.push(
        vendorFailure(
          "UNSUPPORTED_OPERATION",
          vendor,
          `${vendor} does not support ${operation.kind} with a ${operation.value.kind} value (supported: ${accepted.join(", ") || "none"})`,
          { attribute: operation.attribute, operation: operation.kind },
        ),
      );
    }
  }
  for (const field of setProfileFields(command.profile)) {
    if (!capabilities.profileFields.includes(field)) {
      failures.push(
        vendorFailure("UNSUPPORTED_OPERATION", vendor, `${vendor} has no profile field for ${field}`, {
          attribute: field,
        }),
      );
    }
  }
  if (command.tags.add.length > 0 && !capabilities.tags.add) {
    failures.push(vendorFailure("UNSUPPORTED_OPERATION", vendor, `${vendor} does not support adding tags`));
  }
  if (command.tags.remove.length > 0 && !capabilities.tags.remove) {
    failures.push(vendorFailure("UNSUPPORTED_OPERATION", vendor, `${vendor} does not support removing tags`));
  }
  return failures;
}
