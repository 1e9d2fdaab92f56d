import { defineVendor } from "../define-vendor.js";
import { UserComAdapter } from "./adapter.js";
import { DOCS_URL } from "./api-version.js";
import { usercomCapabilities } from "./capabilities.js";
import { readUserComConfig, usercomEnv, type UserComConfig } from "./config.js";
import { SANDBOX_API_KEY, SANDBOX_API_PATH, startUserComSandbox, type UserComSandbox } from "./sandbox.js";

export const usercom = defineVendor<"usercom", UserComConfig, UserComSandbox>({
  id: "usercom",
  displayName: "User.com",
  capabilities: usercomCapabilities,
  env: usercomEnv,
  docsUrl: DOCS_URL,
  readConfig: readUserComConfig,
  sandboxEnv: (sandboxUrl) => ({ USERCOM_API_URL: `${sandboxUrl}${SANDBOX_API_PATH}`, USERCOM_API_KEY: SANDBOX_API_KEY }),
  describe: (config) => `${config.baseUrl} (API version ${config.apiVersion}, unknown attributes: ${config.unknownAttributes})`,
  createAdapter: (config, deps) => new UserComAdapter(config, deps),
  startSandbox: (options) => startUserComSandbox(options),
});

export { UserComAdapter } from "./adapter.js";
