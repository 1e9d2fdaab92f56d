import { defineVendor } from "../define-vendor.js";
import { UserComAdapter } from "./adapter.js";
import { DOCS_URL } from "./api-version.js";
import { usercomCapabilities } from "./capabilities.js";
import { readUserComConfig, usercomEnv, usercomSandboxEnv, type UserComConfig } from "./config.js";
import type { UserComSandbox } from "./sandbox.js";

export const usercom = defineVendor<"usercom", UserComConfig, UserComSandbox>({
  id: "usercom",
  displayName: "User.com",
  capabilities: usercomCapabilities,
  env: usercomEnv,
  docsUrl: DOCS_URL,
  readConfig: readUserComConfig,
  sandboxEnv: usercomSandboxEnv,
  describe: (config) => `${config.baseUrl} (API version ${config.apiVersion}, unknown attributes: ${config.unknownAttributes})`,
  createAdapter: (config, deps) => new UserComAdapter(config, deps),
  // The sandbox (a fake vendor server) is loaded only when one starts, never in a live process.
  startSandbox: async (options) => (await import("./sandbox.js")).startUserComSandbox(options),
});

export { UserComAdapter } from "./adapter.js";
