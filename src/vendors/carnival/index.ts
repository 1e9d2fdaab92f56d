import { defineVendor } from "../define-vendor.js";
import { DOCS_URL } from "./api-version.js";
import { carnivalCapabilities } from "./capabilities.js";
import { CarnivalAdapter } from "./client.js";
import { carnivalEnv, readCarnivalConfig, type CarnivalConfig } from "./config.js";
import { SANDBOX_API_KEY, startCarnivalSandbox, type CarnivalSandbox } from "./sandbox.js";

export const carnival = defineVendor<"carnival", CarnivalConfig, CarnivalSandbox>({
  id: "carnival",
  displayName: "Carnival",
  capabilities: carnivalCapabilities,
  env: carnivalEnv,
  docsUrl: DOCS_URL,
  readConfig: readCarnivalConfig,
  sandboxEnv: (sandboxUrl) => ({ CARNIVAL_API_URL: `${sandboxUrl}/v6`, CARNIVAL_API_KEY: SANDBOX_API_KEY }),
  describe: (config) => config.baseUrl,
  createAdapter: (config, deps) => new CarnivalAdapter(config, deps),
  startSandbox: (options) => startCarnivalSandbox(options),
});
