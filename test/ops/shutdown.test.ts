import "reflect-metadata";
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { createLogger } from "../../src/logging.js";
import { startDevStack } from "../../src/dev/stack.js";
import { startTestSubgraph } from "../support/subgraph.js";

/**
 * main.ts, users-main.ts and stack-main.ts stop their servers in order on SIGINT/SIGTERM. Apollo
 * Server's own signal handlers (installed outside NODE_ENV=test) would race them, and a second
 * concurrent stop() never resolves in @apollo/server 5: the dev stack then hung on Ctrl-C.
 */
describe("termination signals", () => {
  const nodeEnv = process.env.NODE_ENV;
  beforeEach(() => {
    process.env.NODE_ENV = "production";
  });
  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
  });
  const listeners = () => process.listenerCount("SIGTERM") + process.listenerCount("SIGINT");

  it("are left to main.ts: the app installs no handler of its own", async () => {
    const before = listeners();
    const subgraph = await startTestSubgraph();
    try {
      expect(listeners()).toBe(before);
    } finally {
      await subgraph.close();
    }
  });

  it("are left to stack-main.ts: neither the users subgraph nor the gateway installs one", async () => {
    const before = listeners();
    const stack = await startDevStack({
      env: {},
      host: "127.0.0.1",
      gatewayPort: 0,
      attributesPort: 0,
      usersPort: 0,
      logger: createLogger({ level: "silent" }),
    });
    try {
      expect(listeners()).toBe(before);
    } finally {
      await stack.close();
    }
  }, 60_000);
});
