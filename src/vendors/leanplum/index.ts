import { defineVendor } from "../define-vendor.js";
import { DOCS_URL } from "./api-version.js";
import { leanplumCapabilities } from "./capabilities.js";
import { LeanplumAdapter } from "./client.js";
import { leanplumEnv, readLeanplumConfig, type LeanplumConfig } from "./config.js";
import { leanplumOptions } from "./options.js";
import { SANDBOX_APP_ID, SANDBOX_CLIENT_KEY, SANDBOX_EXPORT_KEY, startLeanplumSandbox, type LeanplumSandbox } from "./sandbox.js";

export const leanplum = defineVendor<"leanplum", LeanplumConfig, LeanplumSandbox>({
  id: "leanplum",
  displayName: "Leanplum",
  capabilities: leanplumCapabilities,
  env: leanplumEnv,
  docsUrl: DOCS_URL,
  options: leanplumOptions,
  readConfig: readLeanplumConfig,
  sandboxEnv: (sandboxUrl) => ({
    LEANPLUM_API_URL: `${sandboxUrl}/api`,
    LEANPLUM_APP_ID: SANDBOX_APP_ID,
    LEANPLUM_CLIENT_KEY: SANDBOX_CLIENT_KEY,
    LEANPLUM_EXPORT_KEY: SANDBOX_EXPORT_KEY,
  }),
  describe: (config) =>
    `${config.apiUrl} (app ${config.appId}${config.exportKey ? ", read-back enabled" : ", read-back disabled: no LEANPLUM_EXPORT_KEY"})`,
  createAdapter: (config, deps) => new LeanplumAdapter(config, deps),
  startSandbox: (options) => startLeanplumSandbox(options),
});
