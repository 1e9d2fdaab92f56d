// A graphql-codegen plugin (see codegen.ts): the union and interface members Apollo Client needs as
// `possibleTypes` to match fragments on AttributesVendorDeliveryResult, AttributesVendorError and the other results.
// Types are told apart by class name rather than graphql-js's instanceof checks, which fail when
// codegen's copy of graphql-js is not this file's.
module.exports = {
  plugin(schema) {
    const possibleTypes = {};
    for (const type of Object.values(schema.getTypeMap())) {
      const abstract = type.constructor.name === "GraphQLUnionType" || type.constructor.name === "GraphQLInterfaceType";
      if (!abstract || type.name.startsWith("_")) continue;
      possibleTypes[type.name] = schema
        .getPossibleTypes(type)
        .map((member) => member.name)
        .sort();
    }
    const sorted = Object.fromEntries(Object.entries(possibleTypes).sort(([a], [b]) => a.localeCompare(b)));
    return `export const possibleTypes: Record<string, string[]> = ${JSON.stringify(sorted, null, 2)};\n`;
  },
};
