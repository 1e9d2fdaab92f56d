import { buildASTSchema, findBreakingChanges, findDangerousChanges, parse, type BreakingChange, type DangerousChange } from "graphql";

/**
 * What changed for clients between two versions of the subgraph's SDL: graphql-js's own
 * comparison (the reference implementation, already a dependency). Breaking changes (a field or
 * type removed, a type changed, an argument made required) fail `npm run schema:breaking`;
 * dangerous ones (a union member or enum value added, which exhaustive client switches must
 * handle) are listed. Federation's directives are not checked here: composition checks them.
 */
export function schemaChanges(previousSdl: string, currentSdl: string): { breaking: BreakingChange[]; dangerous: DangerousChange[] } {
  const previous = buildASTSchema(parse(previousSdl), { assumeValidSDL: true });
  const current = buildASTSchema(parse(currentSdl), { assumeValidSDL: true });
  return { breaking: findBreakingChanges(previous, current), dangerous: findDangerousChanges(previous, current) };
}
