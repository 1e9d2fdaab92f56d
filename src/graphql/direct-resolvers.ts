import type { GraphQLFieldResolver } from "graphql";
import { getMetadataStorage } from "type-graphql";

type Storage = ReturnType<typeof getMetadataStorage>;
type Param = Storage["params"][number];
type Handler = Pick<Storage["queries"][number], "target" | "methodName" | "schemaName">;
/** What type-graphql records a decorated class as. */
type ClassTarget = Handler["target"];
type ResolverClass = new () => object;
type FieldResolverFn = GraphQLFieldResolver<unknown, Record<string, unknown>, Record<string, unknown>>;

/**
 * Resolver functions that call the resolver classes' methods with graphql-js's coerced arguments
 * as they are, keyed by GraphQL type and field like a resolver map.
 *
 * Why: type-graphql's own resolver functions first copy every input object into an instance of its
 * class (for class-validator and input-class methods; this schema uses neither, it is built with
 * `validate: false`). That copy regenerates its conversion tree on every call and deletes each
 * absent field from a fresh instance, which leaves slow dictionary-mode objects for the rest of
 * the request. Calling the methods directly costs the resolver layer 0.59× the CPU per call
 * (`npm run bench:resolvers`; bench/RESULTS.md, session 8). type-graphql still builds the schema
 * from the same classes and decorators.
 *
 * Parameters are filled as type-graphql fills them, minus the conversion: `@Arg` → the coerced
 * argument, `@Ctx` → the context (or one of its properties), `@Root` → the parent value (or one of
 * its properties), `@Info` → the resolve info, custom parameter decorators → their own resolver.
 * Middlewares, `@Authorized` and `@Args` are refused when the map is built, so none is ever
 * silently skipped.
 */
export function directResolvers(classes: readonly ResolverClass[]): Record<string, Record<string, FieldResolverFn>> {
  const storage = getMetadataStorage();
  const instances = new Map(classes.map((cls) => [cls as ClassTarget, new cls() as Record<string, unknown>]));
  const ours = (metadata: { target: ClassTarget }): boolean => instances.has(metadata.target);
  const refused = [
    ...storage.middlewares.filter(ours).map((m) => `middleware on ${m.fieldName}`),
    ...storage.resolverMiddlewares.filter(ours).map(() => "class middleware"),
    ...storage.authorizedFields.filter(ours).map((a) => `@Authorized on ${a.fieldName}`),
    ...storage.authorizedResolver.filter(ours).map(() => "class @Authorized"),
  ];
  if (refused.length > 0) throw new Error(`direct resolvers do not run type-graphql middlewares or auth checks: ${refused.join(", ")}`);

  const map: Record<string, Record<string, FieldResolverFn>> = {};
  const add = (typeName: string, field: string, fn: FieldResolverFn): void => {
    (map[typeName] ??= {})[field] = fn;
  };
  const handlers: Array<{ typeName: string; handler: Handler }> = [
    ...storage.queries.filter(ours).map((handler) => ({ typeName: "Query", handler })),
    ...storage.mutations.filter(ours).map((handler) => ({ typeName: "Mutation", handler })),
    // "internal" field resolvers are methods of the object type itself; type-graphql's own resolver serves them.
    ...storage.fieldResolvers
      .filter((handler) => handler.kind === "external" && ours(handler))
      .map((handler) => ({ typeName: objectTypeName(storage, handler.target), handler })),
  ];
  for (const { typeName, handler } of handlers) {
    const instance = instances.get(handler.target)!;
    const method = instance[handler.methodName];
    if (typeof method !== "function") throw new Error(`${handler.target.name}.${handler.methodName} is not a method`);
    const params = storage.params
      .filter((p) => p.target === handler.target && p.methodName === handler.methodName)
      .sort((a, b) => a.index - b.index)
      .map((param) => paramReader(param, handler.methodName));
    add(typeName, handler.schemaName, (root, args, context, info) =>
      (method as (...values: unknown[]) => unknown).apply(
        instance,
        params.map((read) => read(root, args, context, info)),
      ),
    );
  }
  return map;
}

function paramReader(param: Param, methodName: string): FieldResolverFn {
  switch (param.kind) {
    case "arg":
      return (_root, args) => args[param.name];
    case "context":
      return param.propertyName === undefined
        ? (_root, _args, context) => context
        : (_root, _args, context) => context[param.propertyName!];
    case "root":
      return param.propertyName === undefined
        ? (root) => root
        : (root) => (root as Record<string, unknown> | null | undefined)?.[param.propertyName!];
    case "info":
      return (_root, _args, _context, info) => info;
    case "custom":
      return (root, args, context, info) => param.resolver({ root, args, context, info }) as unknown;
    default:
      throw new Error(`direct resolvers do not support a "${param.kind}" parameter (in ${methodName})`);
  }
}

function objectTypeName(storage: Storage, resolverClass: ClassTarget): string {
  const objectClass = storage.resolverClasses.find((r) => r.target === resolverClass)?.getObjectType();
  const objectType =
    storage.objectTypes.find((t) => t.target === objectClass) ?? storage.interfaceTypes.find((t) => t.target === objectClass);
  if (!objectType) throw new Error(`${resolverClass.name} resolves fields of no known object type`);
  return objectType.name;
}
