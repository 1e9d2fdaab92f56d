import { Directive, Field, ID, ObjectType } from "type-graphql";

/** The federated user, owned by another subgraph; this subgraph adds fields and mutations. */
@Directive('@key(fields: "id")')
@ObjectType({ description: "A user of the product. Owned by the users subgraph; extended here." })
export class User {
  @Field(() => ID)
  id!: string;
}

export function userReference(id: string): User {
  return Object.assign(new User(), { id });
}
