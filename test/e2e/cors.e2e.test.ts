import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * A browser app on another origin calling the subgraph: with its origin in CORS_ORIGINS the
 * preflight passes and the answer is readable; without, the browser refuses it; and a request a
 * browser sends without a preflight still meets Apollo's CSRF prevention.
 */
describe("cross-origin calls from a real browser page", () => {
  let allowing: TestSubgraph;
  let closed: TestSubgraph;
  let app: http.Server;
  let appOrigin: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium is not installed at ${CHROMIUM}: run "apt-get install -y chromium" or set CHROMIUM_PATH`);
    allowing = await startTestSubgraph({ sandboxUserIds: ["1"], corsOrigins: ["http://127.0.0.1:*"] });
    closed = await startTestSubgraph({ sandboxUserIds: ["1"] });
    // The browser app: a page of its own origin (127.0.0.1, another port); the subgraphs are called as localhost.
    app = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>app</title>");
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", () => resolve()));
    appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await (await browser.newContext()).newPage();
    await page.goto(`${appOrigin}/`);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => app?.close(resolve));
    await allowing?.close();
    await closed?.close();
  });

  const localhost = (subgraph: TestSubgraph) => subgraph.url.replace("127.0.0.1", "localhost");
  const call = (url: string, contentType: string, body: string) =>
    page.evaluate(
      async ({ url, contentType, body }) => {
        try {
          const response = await fetch(url, { method: "POST", headers: { "content-type": contentType }, body });
          return { status: response.status, body: await response.text(), requestId: response.headers.get("x-request-id") };
        } catch (error) {
          return { error: String(error) };
        }
      },
      { url, contentType, body },
    );
  const UPDATE = JSON.stringify({
    query: `mutation { updateAttributes(input: { userId: "1", vendors: [CARNIVAL], operations: [{ op: SET, attribute: "plan", value: { string: "gold" } }] }) { __typename } }`,
  });

  it("lets an allowed origin's app call the subgraph (preflight answered, answer readable)", async () => {
    const result = await call(localhost(allowing), "application/json", UPDATE);
    expect(result).toMatchObject({ status: 200, requestId: expect.any(String) });
    expect(JSON.parse((result as { body: string }).body)).toEqual({
      data: { updateAttributes: { __typename: "AttributesUpdateSuccess" } },
    });
  });

  it("leaves an origin that is not allowed refused by the browser, as before", async () => {
    expect(await call(localhost(closed), "application/json", UPDATE)).toEqual({ error: expect.stringContaining("Failed to fetch") });
  });

  it("keeps CSRF prevention for requests a browser sends without a preflight", async () => {
    const result = await call(localhost(allowing), "text/plain", UPDATE);
    expect(result).toMatchObject({ status: 400 });
    expect((result as { body: string }).body).toMatch(/CSRF|preflight/i);
  });
});
