import { GraphQLDateTime } from "graphql-scalars";
import { Field, Float, InputType, Int, registerEnumType, type ClassType } from "type-graphql";
import type { OptionField } from "../../domain/options.js";
import type { VendorDeclaration } from "../../domain/vendor.js";
import { vendorDeclarations } from "../../vendors/declarations.js";

/**
 * Every name a vendor declares (its options input, nested inputs, enums) must start with
 * `Attribute` like every other type of this subgraph (docs/api.md, "Names"), so that the subgraph can
 * join a supergraph whose other subgraphs use generic names. The names that do not, for the check at
 * import and its test.
 */
export function misnamedOptionTypes(vendors: readonly VendorDeclaration[]): string[] {
  return vendors.flatMap((v) => (v.options ? declaredNames(v.options) : [])).filter((name) => !name.startsWith(TYPE_NAME_PREFIX));
}

function vendorOptionsInput(vendors: readonly VendorDeclaration[]): ClassType | undefined {
  const misnamed = misnamedOptionTypes(vendors);
  if (misnamed.length > 0) {
    throw new Error(
      `vendor option types must start with ${TYPE_NAME_PREFIX} like every type of this subgraph (docs/api.md, "Names"): ${misnamed.join(", ")}`,
    );
  }
  const withOptions = vendors.filter((v) => v.options);
  if (withOptions.length === 0) return undefined;
  class AttributesVendorOptionsInput {}
  for (const vendor of withOptions) {
    const type = inputClass(vendor.options!.name, vendor.options!.description, vendor.options!.fields);
    Field(() => type, { nullable: true, description: vendor.options!.description })(AttributesVendorOptionsInput.prototype, vendor.id);
  }
  InputType("AttributesVendorOptionsInput", {
    description: "Vendor-specific options, one field per vendor. Options for a vendor that is not targeted are refused.",
  })(AttributesVendorOptionsInput);
  return AttributesVendorOptionsInput;
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

/**
 * `AttributesVendorOptionsInput { <vendor>: Attributes<Vendor>OptionsInput }`, built once at import
 * from the registered vendors' declared option fields; undefined when no vendor declares options
 * (an input type needs a field). `AttributesUpdateInput.vendorOptions` is of this type.
 */
export const VendorOptionsInput: ClassType | undefined = vendorOptionsInput(vendorDeclarations);
