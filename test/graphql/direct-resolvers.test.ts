import "reflect-metadata";
import { describe, expect, it } from "@jest/globals";
import { graphql, type GraphQLObjectType, type GraphQLResolveInfo, type GraphQLSchema } from "graphql";
import {
  Arg,
  Args,
  ArgsType,
  buildSchema,
  Ctx,
  Field,
  FieldResolver,
  Info,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  UseMiddleware,
} from "type-graphql";
import { directResolvers } from "../../src/graphql/direct-resolvers.js";

@InputType()
class ItemInput {
  @Field()
  name!: string;

  @Field(() => Int, { nullable: true })
  count?: number | null;

  @Field({ nullable: true })
  note?: string;

  // type-graphql turns an initializer into the schema's default, which graphql-js then applies.
  @Field(() => Int)
  priority: number = 5;
}

@ObjectType()
class Shelf {
  @Field()
  id!: string;
}

const seen: Record<string, unknown> = {};

@Resolver(() => Shelf)
class ShelfResolver {
  @Query(() => Shelf)
  shelf(@Arg("id") id: string): Shelf {
    return Object.assign(new Shelf(), { id });
  }

  @Mutation(() => String)
  put(@Arg("items", () => [ItemInput]) items: ItemInput[], @Ctx("tenant") tenant: string, @Info() info: GraphQLResolveInfo): string {
    seen.items = items;
    seen.tenant = tenant;
    seen.fieldName = info.fieldName;
    return `${tenant}:${items.length}`;
  }

  @FieldResolver(() => String)
  label(@Root() shelf: Shelf, @Ctx() context: { tenant: string }, @Arg("suffix", { defaultValue: "!" }) suffix: string): string {
    return `${context.tenant}/${shelf.id}${suffix}`;
  }
}

async function buildDirect(): Promise<GraphQLSchema> {
  const schema = await buildSchema({ resolvers: [ShelfResolver], validate: false });
  for (const [typeName, fields] of Object.entries(directResolvers([ShelfResolver]))) {
    const type = schema.getType(typeName) as GraphQLObjectType;
    for (const [field, resolve] of Object.entries(fields)) type.getFields()[field]!.resolve = resolve;
  }
  return schema;
}

describe("direct resolvers (resolver methods called with graphql-js's coerced arguments)", () => {
  it("hands a method the coerced input objects themselves, not class instances: absent fields absent, schema defaults applied", async () => {
    const schema = await buildDirect();
    const result = await graphql({
      schema,
      source: `mutation { put(items: [{ name: "a", count: 2 }, { name: "b", priority: 1 }]) }`,
      contextValue: { tenant: "t1" },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ put: "t1:2" });
    const items = seen.items as object[];
    expect(items).toEqual([
      { name: "a", count: 2, priority: 5 },
      { name: "b", priority: 1 },
    ]);
    expect(items.every((item) => !(item instanceof ItemInput))).toBe(true);
    expect("count" in items[1]!).toBe(false);
    expect(seen.tenant).toBe("t1");
    expect(seen.fieldName).toBe("put");
  });

  it("resolves queries and field resolvers of the resolver's object type, with the parent, the context and argument defaults", async () => {
    const schema = await buildDirect();
    const result = await graphql({
      schema,
      source: `{ shelf(id: "s1") { id label plain: label(suffix: "") } }`,
      contextValue: { tenant: "t2" },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ shelf: { id: "s1", label: "t2/s1!", plain: "t2/s1" } });
  });

  it("keeps a method's errors as the field's errors", async () => {
    @Resolver()
    class FailingResolver {
      @Query(() => String)
      broken(): string {
        throw new Error("broken on purpose");
      }
    }
    await buildSchema({ resolvers: [FailingResolver], validate: false });
    const direct = directResolvers([FailingResolver]);
    expect(() => direct.Query!.broken!(undefined, {}, {}, {} as GraphQLResolveInfo)).toThrow("broken on purpose");
  });

  it("refuses, when built, what it would otherwise skip silently: middlewares and @Args", () => {
    @Resolver()
    class GuardedResolver {
      @Query(() => String)
      @UseMiddleware((_data, next) => next())
      guarded(): string {
        return "x";
      }
    }
    expect(() => directResolvers([GuardedResolver])).toThrow(/middlewares.*middleware on guarded/);

    @ArgsType()
    class PageArgs {
      @Field(() => Int)
      first!: number;
    }
    @Resolver()
    class PagedResolver {
      @Query(() => String)
      paged(@Args() page: PageArgs): string {
        return String(page.first);
      }
    }
    expect(() => directResolvers([PagedResolver])).toThrow(/"args" parameter \(in paged\)/);
  });
});
