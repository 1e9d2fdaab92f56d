import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connectRedis, describeRedisUrl, whenReady } from "../../src/redis/connection.js";
import { startTestRedis, stopTestRedis, TEST_TLS_CA_FILE, type TestRedis } from "../support/redis.js";

describe("shared mode's Redis connection", () => {
  let plain: TestRedis | undefined;
  let secured: TestRedis | undefined;
  beforeAll(async () => {
    [plain, secured] = await Promise.all([startTestRedis(), startTestRedis({ tls: true, password: "s3cret pass/word" })]);
  });
  afterAll(async () => {
    await Promise.all([stopTestRedis(plain), stopTestRedis(secured)]);
  });

  it("talks to a plain redis:// server", async () => {
    const redis = connectRedis({ url: plain!.url, keyPrefix: "t" }, "commands", "test");
    try {
      await whenReady(redis, 5_000);
      expect(await redis.ping()).toBe("PONG");
      expect((await redis.info("server")).match(/redis_version:(\d+)/)?.[1]).toBe("7");
    } finally {
      redis.disconnect();
    }
  });

  it("talks TLS to a rediss:// server with a password, verifying its certificate against the given CA", async () => {
    const redis = connectRedis({ url: secured!.url, keyPrefix: "t", tlsCaFile: TEST_TLS_CA_FILE }, "commands", "test");
    try {
      await whenReady(redis, 5_000);
      expect(await redis.ping()).toBe("PONG");
    } finally {
      redis.disconnect();
    }
  });

  it("never shows the password when it describes the URL", () => {
    expect(describeRedisUrl(secured!.url)).not.toContain("s3cret");
    expect(describeRedisUrl(secured!.url)).toMatch(/^rediss:\/\/:redacted@127\.0\.0\.1:\d+$/);
  });
});
