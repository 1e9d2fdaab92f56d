import { defineVendor } from "../define-vendor.js";
import { DOCS_URL } from "./api-version.js";
import { carnivalCapabilities } from "./capabilities.js";
import { CarnivalAdapter } from "./adapter.js";
import { carnivalEnv, carnivalSandboxEnv, readCarnivalConfig, type CarnivalConfig } from "./config.js";
import type { CarnivalSandbox } from "./sandbox.js";

export const carnival = defineVendor<"carnival", CarnivalConfig, CarnivalSandbox>({
  id: "carnival",
  displayName: "Carnival",
  capabilities: carnivalCapabilities,
  env: carnivalEnv,
  docsUrl: DOCS_URL,
  readConfig: readCarnivalConfig,
  sandboxEnv: carnivalSandboxEnv,
  describe: (config) => config.baseUrl,
  createAdapter: (config, deps) => new CarnivalAdapter(config, deps),
  // The sandbox (a fake vendor server) is loaded only when one starts, never in a live process.
  startSandbox: async (options) => (await import("./sandbox.js")).startCarnivalSandbox(options),
});
