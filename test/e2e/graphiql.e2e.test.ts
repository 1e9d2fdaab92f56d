import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { EXAMPLES } from "../../src/graphql/examples.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

/** Debian's Chromium; .ci/run installs it. CHROMIUM_PATH points elsewhere on other systems. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const SCREENSHOT = `${ARTIFACTS}graphiql.png`;

/**
 * GraphiQL in a real browser: the self-hosted page loads with nothing fetched from outside the
 * subgraph, the first example runs from the run button, and its result shows on screen.
 */
describe("GraphiQL in headless Chromium", () => {
  let subgraph: TestSubgraph;
  let browser: Browser;
  let page: Page;
  const outsideRequests: string[] = [];
  const pageErrors: string[] = [];
  /** Failed answers of the subgraph to the page (favicon aside): introspection refused, for example. */
  const failedResponses: string[] = [];
  const introspectionRequests: string[] = [];

  beforeAll(async () => {
    // Fail loudly: a missing browser must not turn this test into a silent skip.
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: run "apt-get install -y chromium" (.ci/run does) or set CHROMIUM_PATH`);
    }
    subgraph = await startTestSubgraph({ sandboxUserIds: ["1", "2", "3"] });
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
    // A new context is a fresh profile: no GraphiQL tabs remembered in local storage.
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const origin = new URL(subgraph.url).origin;
    // The page must work offline: anything it asks of another origin is refused and recorded.
    await context.route("**/*", async (route) => {
      const url = route.request().url();
      if (route.request().postData()?.includes("__schema")) introspectionRequests.push(url);
      if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
      outsideRequests.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("response", (response) => {
      if (response.status() >= 400 && !response.url().endsWith("/favicon.ico"))
        failedResponses.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await subgraph?.close();
  });

  it("runs the first example mutation and shows AttributesVendorDeliverySuccess", async () => {
    await page.goto(subgraph.url, { waitUntil: "load" });
    await page.locator(".graphiql-container").waitFor({ state: "visible", timeout: 20_000 });
    const query = page.locator(".graphiql-query-editor");
    await query.waitFor({ state: "visible" });
    // The first tab is the first example.
    expect(await query.innerText()).toContain("mutation SetAttributes");

    await page.locator("button.graphiql-execute-button").click();
    const result = page.locator(".graphiql-response .result-window");
    await result.getByText("AttributesVendorDeliverySuccess").first().waitFor({ state: "visible", timeout: 20_000 });
    const shown = await result.innerText();
    expect(shown).toContain('"__typename": "AttributesUpdateSuccess"');
    expect(shown).toContain('"__typename": "AttributesVendorDeliverySuccess"');
    expect(shown).toContain('"code": "KEY_NORMALIZED"');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);

    // The browser's request really reached the subgraph and the Carnival sandbox.
    const operationLog = subgraph.logLines
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === "graphql operation" && line.operation?.name === "SetAttributes");
    expect(operationLog).toMatchObject({
      operation: { type: "mutation", result: "AttributesUpdateSuccess" },
      deliveries: [{ vendor: "carnival", outcome: "delivered" }],
    });
    expect(outsideRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(failedResponses).toEqual([]);
  });

  it("has the schema for docs and completion without introspecting over HTTP", async () => {
    await page
      .getByRole("button", { name: /Documentation Explorer/ })
      .first()
      .click();
    const docs = page.locator(".graphiql-doc-explorer");
    // Exact, case-sensitive text: the root type's link, not the "mutation" label beside it, and the
    // field itself (a substring match also found the old UpdateAttributesInput in the type list).
    await docs.getByText("Mutation", { exact: true }).first().waitFor({ state: "visible", timeout: 10_000 });
    await docs.getByText("Mutation", { exact: true }).first().click();
    await docs.getByText("updateAttributes", { exact: true }).first().waitFor({ state: "visible", timeout: 10_000 });
    expect(introspectionRequests).toEqual([]);
    expect(failedResponses).toEqual([]);
  });

  it("offers every example as a tab", async () => {
    const tabs = page.locator(".graphiql-tab");
    expect(await tabs.count()).toBe(EXAMPLES.length);
  });
});
