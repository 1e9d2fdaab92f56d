import { createDefaultEsmPreset } from "ts-jest";

/** @type {import("jest").Config} */
export default {
  ...createDefaultEsmPreset({ tsconfig: "tsconfig.json" }),
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // NodeNext wants ".js" in relative imports; jest must find the ".ts" source.
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  // Suites start real HTTP servers on loopback; give slow shared machines room.
  testTimeout: 30_000,
  reporters: ["default", "<rootDir>/test/support/summary-reporter.cjs"],
};
