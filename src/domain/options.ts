import type { InputProblem, Validated } from "./command.js";

/**
 * Vendor-specific input, declared as data (Segment's "declared fields"). The GraphQL layer turns
 * a vendor's declaration into an input type under `AttributesUpdateInput.vendorOptions`, so the
 * vendor never imports GraphQL and the schema documents every option.
 */
export type OptionField =
  | {
      readonly type: "string" | "int" | "float" | "boolean" | "dateTime";
      readonly list?: boolean;
      /** Non-null in the schema; `parse` still receives plain data. */
      readonly required?: boolean;
      readonly description: string;
    }
  | {
      readonly type: "enum";
      /** GraphQL enum name, starting with Attribute like every type of this subgraph, for example AttributesLeanplumChannel. */
      readonly name: string;
      readonly values: readonly string[];
      readonly list?: boolean;
      /** Non-null in the schema; `parse` still receives plain data. */
      readonly required?: boolean;
      readonly description: string;
    }
  | {
      readonly type: "object";
      /** GraphQL input name, starting with Attribute, for example AttributesLeanplumEventAggregateInput. */
      readonly name: string;
      readonly fields: Readonly<Record<string, OptionField>>;
      readonly list?: boolean;
      /** Non-null in the schema; `parse` still receives plain data. */
      readonly required?: boolean;
      readonly description: string;
    };

export interface VendorOptionsSpec<T = unknown> {
  /** GraphQL input name, starting with Attribute (docs/api.md, "Names"), for example AttributesLeanplumOptionsInput. */
  readonly name: string;
  readonly description: string;
  readonly fields: Readonly<Record<string, OptionField>>;
  /**
   * Checks the plain object built from the declared fields (absent fields are left out, dates are
   * Date objects) and returns the vendor's typed options. Problem paths are relative to the
   * options object.
   */
  parse(raw: Readonly<Record<string, unknown>>): Validated<T>;
}

export function prefixProblems(problems: readonly InputProblem[], prefix: readonly string[]): InputProblem[] {
  return problems.map((p) => ({ path: [...prefix, ...p.path], message: p.message }));
}
