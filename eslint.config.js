import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The layer rules of the architecture (see README "Layout"), enforced rather than hoped for:
// domain knows nothing of GraphQL, HTTP or vendors; graphql/ and bulk/ never name a vendor (graphql/ reads
// the registry's declarations);
// a vendor never imports the GraphQL layer. test/architecture/layers.test.ts checks the
// relative-path rules exactly (no sibling vendor imports), which globs cannot express well.
const layerZones = {
  "src/domain/**": [
    {
      group: ["**/graphql/**", "**/vendors/**", "**/http/**", "**/bulk/**", "**/sandbox/**"],
      message: "domain/ is vendor-neutral and transport-free",
    },
    { group: ["graphql", "type-graphql", "got", "@apollo/*"], message: "domain/ knows nothing of GraphQL or HTTP" },
  ],
  "src/graphql/**": [
    {
      group: ["**/vendors/**", "!**/vendors/declarations.js"],
      message: "graphql/ knows the vendors only through vendors/declarations.ts (ids and option specs)",
    },
  ],
  "src/bulk/**": [{ group: ["**/vendors/**", "**/graphql/**"], message: "bulk/ works on the domain's vendor interface" }],
  "src/vendors/*/**": [{ group: ["**/graphql/**", "type-graphql", "@apollo/*"], message: "vendor folders know nothing of GraphQL" }],
};

export default tseslint.config(
  // examples/client/src/gql/ is graphql-codegen output (type-checked by tsc, kept fresh by a test).
  {
    ignores: [
      "dist/**",
      "dist-bench/**",
      ".test-build/**",
      "bench/out/**",
      "node_modules/**",
      "coverage/**",
      "jest.config.js",
      "eslint.config.js",
      "**/*.cjs",
      "examples/client/src/gql/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-extraneous-class": "off",
      "no-console": "error",
    },
  },
  ...Object.entries(layerZones).map(([files, patterns]) => ({
    files: [files],
    rules: { "no-restricted-imports": ["error", { patterns }] },
  })),
  {
    files: ["test/**", "src/**/__tests__/**", "bench/**"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "no-console": "off",
    },
  },
);
