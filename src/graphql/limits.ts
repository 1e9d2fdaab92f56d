import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

/**
 * Bounds on an operation's shape, checked before execution: selection depth and the number of
 * fields selected, counting every fragment where it is spread (so fragments cannot hide depth or
 * multiply work). Introspection fields count like any other.
 */
export function operationLimits(maxDepth: number, maxFields: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation: OperationDefinitionNode) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const definition of context.getDocument().definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      }
      const measured = measure(operation.selectionSet, fragments, 1, new Set(), { fields: 0, maxFields });
      const name = operation.name ? `"${operation.name.value}"` : "the operation";
      if (measured.depth > maxDepth) {
        context.reportError(new GraphQLError(`${name} nests ${measured.depth} levels deep; at most ${maxDepth} are allowed`, { nodes: [operation] }));
      }
      if (measured.fields > maxFields) {
        context.reportError(new GraphQLError(`${name} selects more than ${maxFields} fields (fragments counted where spread)`, { nodes: [operation] }));
      }
    },
  });
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
      if (selection.selectionSet) deepest = Math.max(deepest, measure(selection.selectionSet, fragments, depth + 1, visiting, budget).depth);
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
