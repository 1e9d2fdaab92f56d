import { defineVendor } from "../define-vendor.js";
import { JiguangAdapter } from "./adapter.js";
import { DOCS_URL } from "./api-version.js";
import { jiguangCapabilities } from "./capabilities.js";
import { jiguangEnv, readJiguangConfig, type JiguangConfig } from "./config.js";
import { SANDBOX_CATALOG, SANDBOX_PROJECT_ID, SANDBOX_PROJECT_SECRET, startJiguangSandbox, type JiguangSandbox } from "./sandbox.js";

export const jiguang = defineVendor<"jiguang", JiguangConfig, JiguangSandbox>({
  id: "jiguang",
  displayName: "Jiguang",
  capabilities: jiguangCapabilities,
  env: jiguangEnv,
  docsUrl: DOCS_URL,
  readConfig: readJiguangConfig,
  // The sandbox enforces its own catalog, so the adapter is given that one (inline, which also
  // works from dist/, where no data file is copied) and any operator catalog file is set aside.
  sandboxEnv: (sandboxUrl) => ({
    JIGUANG_API_URL: sandboxUrl,
    JIGUANG_PROJECT_ID: SANDBOX_PROJECT_ID,
    JIGUANG_PROJECT_SECRET: SANDBOX_PROJECT_SECRET,
    JIGUANG_ATTRIBUTES: JSON.stringify(SANDBOX_CATALOG),
    JIGUANG_ATTRIBUTES_FILE: undefined,
  }),
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
  startSandbox: (options) => startJiguangSandbox(options),
});
