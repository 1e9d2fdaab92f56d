import { Field, ObjectType, registerEnumType } from "type-graphql";
import type { VendorCapabilities } from "../../domain/capabilities.js";
import type { OperationKind } from "../../domain/operations.js";
import type { Vendor as DomainVendor } from "../../domain/vendor.js";
import { AttributeOperationKind } from "../errors/error.types.js";
import { Vendor } from "../vendor.enum.js";

export const VendorMode = { LIVE: "live", SANDBOX: "sandbox", NOT_CONFIGURED: "not-configured" } as const;
registerEnumType(VendorMode, {
  name: "AttributesVendorMode",
  valuesConfig: {
    LIVE: { description: "Calls go to the vendor's real API." },
    SANDBOX: { description: "Calls go to the built-in sandbox server, which follows the vendor's documented rules." },
    NOT_CONFIGURED: { description: "No credentials: calls answer AttributesVendorNotConfiguredError." },
  },
});

@ObjectType("AttributesSupportedOperation", { description: "An operation a vendor supports, with the value types it accepts." })
export class SupportedOperation {
  @Field(() => AttributeOperationKind) op!: OperationKind;
  @Field(() => [String], { description: "AttributeValueInput field names accepted, for example int or stringList." })
  valueTypes!: string[];
}

@ObjectType("AttributesVendorCapabilitiesInfo", {
  description: "What a vendor can do, as it declares it. Anything else fails with AttributesUnsupportedOperationError.",
})
export class VendorCapabilitiesInfo {
  @Field(() => [SupportedOperation]) operations!: SupportedOperation[];
  @Field(() => [String], { description: "AttributesProfileFieldsInput field names the vendor maps." }) profileFields!: string[];
  @Field(() => Boolean) addTags!: boolean;
  @Field(() => Boolean) removeTags!: boolean;
  @Field(() => Boolean, { description: "Whether the vendor has a per-user read endpoint." }) readProfile!: boolean;
  @Field(() => Boolean, { description: "Whether a write can create a missing user." }) createsUsers!: boolean;
}

@ObjectType("AttributesVendorInfo", { description: "A vendor known to this subgraph and how this deployment reaches it." })
export class VendorInfo {
  @Field(() => Vendor) vendor!: string;
  @Field(() => String) displayName!: string;
  @Field(() => VendorMode) mode!: DomainVendor["mode"];
  @Field(() => VendorCapabilitiesInfo) capabilities!: VendorCapabilitiesInfo;
}

export function toVendorInfo(vendor: DomainVendor): VendorInfo {
  return Object.assign(new VendorInfo(), {
    vendor: vendor.id,
    displayName: vendor.displayName,
    mode: vendor.mode,
    capabilities: toCapabilitiesInfo(vendor.capabilities),
  });
}

function toCapabilitiesInfo(capabilities: VendorCapabilities): VendorCapabilitiesInfo {
  return Object.assign(new VendorCapabilitiesInfo(), {
    operations: Object.entries(capabilities.operations).map(([op, kinds]) =>
      Object.assign(new SupportedOperation(), { op: op as OperationKind, valueTypes: [...(kinds ?? [])] }),
    ),
    profileFields: [...capabilities.profileFields],
    addTags: capabilities.tags.add,
    removeTags: capabilities.tags.remove,
    readProfile: capabilities.readProfile,
    createsUsers: capabilities.createsUsers,
  });
}
