import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

/**
 * Bounds on an operation's shape, checked before execution: selection depth and the number of
 * fields selected, counting every fragment where it is spread (so fragments cannot hide depth or
 * multiply work). Introspection (`__schema`, `__type`) is held to INTROSPECTION_DEPTH instead of
 * the depth limit, because the standard introspection query that tools send (Rover, codegen,
 * GraphiQL, Apollo Sandbox) is 15 levels deep; its fields still count against `maxFields`.
 */
export const INTROSPECTION_DEPTH = 20;

export function operationLimits(maxDepth: number, maxFields: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation: OperationDefinitionNode) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const definition of context.getDocument().definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      }
      const budget = { fields: 0, maxFields };
      const regular = { ...operation.selectionSet, selections: operation.selectionSet.selections.filter((s) => !isIntrospection(s)) };
      const introspection = { ...operation.selectionSet, selections: operation.selectionSet.selections.filter(isIntrospection) };
      const measured = measure(regular, fragments, 1, new Set(), budget);
      const introspected = measure(introspection, fragments, 1, new Set(), budget);
      const name = operation.name ? `"${operation.name.value}"` : "the operation";
      if (introspected.depth > Math.max(maxDepth, INTROSPECTION_DEPTH)) {
        context.reportError(
          new GraphQLError(
            `${name} nests introspection ${introspected.depth} levels deep; at most ${Math.max(maxDepth, INTROSPECTION_DEPTH)} are allowed`,
            { nodes: [operation] },
          ),
        );
      }
      if (measured.depth > maxDepth) {
        context.reportError(
          new GraphQLError(`${name} nests ${measured.depth} levels deep; at most ${maxDepth} are allowed`, { nodes: [operation] }),
        );
      }
      if (budget.fields > maxFields) {
        context.reportError(
          new GraphQLError(`${name} selects more than ${maxFields} fields (fragments counted where spread)`, { nodes: [operation] }),
        );
      }
    },
  });
}

function isIntrospection(selection: SelectionNode): boolean {
  return selection.kind === Kind.FIELD && (selection.name.value === "__schema" || selection.name.value === "__type");
}

function measure(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  depth: number,
  visiting: Set<string>,
  budget: { fields: number; readonly maxFields: number },
): { depth: number; fields: number } {
  let deepest = depth;
  for (const selection of selectionSet.selections) {
    // Stop counting once over budget: the verdict is already known, and a pathological document
    // must not make validation itself expensive.
    if (budget.fields > budget.maxFields) break;
    if (selection.kind === Kind.FIELD) {
      budget.fields++;
      if (selection.selectionSet)
        deepest = Math.max(deepest, measure(selection.selectionSet, fragments, depth + 1, visiting, budget).depth);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, measure(selection.selectionSet, fragments, depth, visiting, budget).depth);
    } else {
      const fragment = fragments.get(selection.name.value);
      // Unknown or cyclic spreads are reported by graphql-js's own rules.
      if (!fragment || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      deepest = Math.max(deepest, measure(fragment.selectionSet, fragments, depth, visiting, budget).depth);
      visiting.delete(fragment.name.value);
    }
  }
  return { depth: deepest, fields: budget.fields };
}
