import { defineVendor } from "../define-vendor.js";
import { JiguangAdapter } from "./adapter.js";
import { DOCS_URL } from "./api-version.js";
import { jiguangCapabilities } from "./capabilities.js";
import { jiguangEnv, jiguangSandboxEnv, readJiguangConfig, type JiguangConfig } from "./config.js";
import type { JiguangSandbox } from "./sandbox.js";

export const jiguang = defineVendor<"jiguang", JiguangConfig, JiguangSandbox>({
  id: "jiguang",
  displayName: "Jiguang",
  capabilities: jiguangCapabilities,
  env: jiguangEnv,
  docsUrl: DOCS_URL,
  readConfig: readJiguangConfig,
  sandboxEnv: jiguangSandboxEnv,
  describe: (config) =>
    [
      config.baseUrl,
      config.catalog
        ? `${config.catalog.attributes.size} attributes (${config.catalog.source})`
        : "no attribute catalog (writes unchecked)",
      config.identityName ? `user ids mapped to CUIDs by ${config.identityName}` : "user ids are CUIDs",
      `DATETIME in ${config.timeZone}`,
      `${config.ratePerSecond} QPS`,
    ].join("; "),
  createAdapter: (config, deps) => new JiguangAdapter(config, deps),
  // The sandbox (a fake vendor server) is loaded only when one starts, never in a live process.
  startSandbox: async (options) => (await import("./sandbox.js")).startJiguangSandbox(options),
});
