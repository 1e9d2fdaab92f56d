import { GraphQLDateTime } from "graphql-scalars";
import { Field, Float, InputType, Int, registerEnumType, type ClassType } from "type-graphql";
import type { OptionField, VendorOptionsSpec } from "../../domain/options.js";
import { UpdateAttributesInput } from "./update-attributes.input.js";

/**
 * Builds `AttributesVendorOptionsInput { <vendor>: Attributes<Vendor>OptionsInput }` from the vendors'
 * declared option fields, and attaches it as `AttributesUpdateInput.vendorOptions`. type-graphql's
 * metadata is process-global, so this runs once per process; later calls must declare the same vendors.
 *
 * Every name a vendor declares (its options input, nested inputs, enums) must start with
 * `Attribute` like every other type of this subgraph (docs/api.md, "Names"), so that the subgraph can
 * join a supergraph whose other subgraphs use generic names; a name that does not is refused here,
 * before anything is registered.
 */
let built: { key: string } | undefined;

export function registerVendorOptions(vendors: ReadonlyArray<{ id: string; options?: VendorOptionsSpec }>): void {
  const withOptions = vendors.filter((v) => v.options);
  const key = withOptions.map((v) => v.id).join(",");
  if (built) {
    if (!withOptions.every((v) => built!.key.split(",").includes(v.id))) {
      throw new Error(`vendor options were built for [${built.key}] and cannot change to [${key}] in one process`);
    }
    return;
  }
  const misnamed = withOptions.flatMap((v) => declaredNames(v.options!)).filter((name) => !name.startsWith(TYPE_NAME_PREFIX));
  if (misnamed.length > 0) {
    throw new Error(
      `vendor option types must start with ${TYPE_NAME_PREFIX} like every type of this subgraph (docs/api.md, "Names"): ${misnamed.join(", ")}`,
    );
  }
  built = { key };
  if (withOptions.length === 0) return;

  class VendorOptionsInput {}
  for (const vendor of withOptions) {
    const type = inputClass(vendor.options!.name, vendor.options!.description, vendor.options!.fields);
    Field(() => type, { nullable: true, description: vendor.options!.description })(VendorOptionsInput.prototype, vendor.id);
  }
  InputType("AttributesVendorOptionsInput", {
    description: "Vendor-specific options, one field per vendor. Options for a vendor that is not targeted are refused.",
  })(VendorOptionsInput);
  Field(() => VendorOptionsInput, { nullable: true })(UpdateAttributesInput.prototype, "vendorOptions");
}

const enums = new Map<string, object>();

/** The prefix every GraphQL type name of this subgraph starts with (`Attribute…` or `Attributes…`). */
const TYPE_NAME_PREFIX = "Attribute";

/** The GraphQL names a vendor's options declare: the input itself, nested inputs and enums. */
function declaredNames(spec: { name: string; fields: Readonly<Record<string, OptionField>> }): string[] {
  return [
    spec.name,
    ...Object.values(spec.fields).flatMap((field) =>
      field.type === "object" ? declaredNames(field) : field.type === "enum" ? [field.name] : [],
    ),
  ];
}

function inputClass(name: string, description: string, fields: Readonly<Record<string, OptionField>>): ClassType {
  const cls = { [name]: class {} }[name]!;
  for (const [fieldName, field] of Object.entries(fields)) {
    const scalar = fieldType(field);
    Field(() => (field.list ? [scalar] : scalar), { nullable: !field.required, description: field.description })(cls.prototype, fieldName);
  }
  InputType(name, { description })(cls);
  return cls;
}

function fieldType(field: OptionField): ClassType | object {
  switch (field.type) {
    case "string":
      return String;
    case "int":
      return Int;
    case "float":
      return Float;
    case "boolean":
      return Boolean;
    case "dateTime":
      return GraphQLDateTime;
    case "enum": {
      let values = enums.get(field.name);
      if (!values) {
        values = Object.fromEntries(field.values.map((v) => [v, v]));
        registerEnumType(values, { name: field.name, description: field.description });
        enums.set(field.name, values);
      }
      return values;
    }
    case "object":
      return inputClass(field.name, field.description, field.fields);
  }
}
