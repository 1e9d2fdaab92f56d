import { defineVendor } from "../define-vendor.js";
import { DOCS_URL } from "./api-version.js";
import { leanplumCapabilities } from "./capabilities.js";
import { LeanplumAdapter } from "./adapter.js";
import { leanplumEnv, leanplumSandboxEnv, readLeanplumConfig, type LeanplumConfig } from "./config.js";
import { leanplumOptions } from "./options.js";
import type { LeanplumSandbox } from "./sandbox.js";

export const leanplum = defineVendor<"leanplum", LeanplumConfig, LeanplumSandbox>({
  id: "leanplum",
  displayName: "Leanplum",
  capabilities: leanplumCapabilities,
  env: leanplumEnv,
  docsUrl: DOCS_URL,
  options: leanplumOptions,
  readConfig: readLeanplumConfig,
  sandboxEnv: leanplumSandboxEnv,
  describe: (config) =>
    `${config.apiUrl} (app ${config.appId}${config.exportKey ? ", read-back enabled" : ", read-back disabled: no LEANPLUM_EXPORT_KEY"})`,
  createAdapter: (config, deps) => new LeanplumAdapter(config, deps),
  // The sandbox (a fake vendor server) is loaded only when one starts, never in a live process.
  startSandbox: async (options) => (await import("./sandbox.js")).startLeanplumSandbox(options),
});
