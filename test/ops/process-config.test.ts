import { afterAll, describe, expect, it } from "@jest/globals";
import net from "node:net";
import { ProcessGroup } from "../support/processes.js";
import { vendorModules } from "../../src/vendors/index.js";

/**
 * The shipped entry point refuses to start on a configuration that would fail open, and names
 * every problem of every stage in one run (status 78, EX_CONFIG).
 */
describe("the subgraph process with a bad configuration", () => {
  const processes = new ProcessGroup();
  afterAll(() => processes.stopAll());

  const fatal = async (env: Record<string, string>) => {
    const started = await processes.start({ env: { HOST: "127.0.0.1", PORT: "0", ...env }, waitForReady: false });
    const exit = await started.exited;
    const record = started.logs().find((line) => line.level === 60);
    return { exit, problems: (record?.problems ?? []) as string[], lines: started.lines };
  };

  it("exits 78 in production without vendor credentials instead of starting sandboxes, naming the variables and the likely typo", async () => {
    const { exit, problems, lines } = await fatal({ NODE_ENV: "production", AUTH_JWT_SECRET: "x".repeat(32), CARNIVAL_APIKEY: "live-key" });
    expect(exit.code).toBe(78);
    // Every registered vendor's credential variables, in registry order, then the sandbox escape hatch.
    const credentials = vendorModules.map((m) => Object.keys(m.env).find((name) => m.env[name]!.credential)!);
    expect(credentials).toHaveLength(vendorModules.length);
    expect(problems.join(" ")).toMatch(new RegExp(`${[...credentials, "SANDBOX=true"].join(".*")}`, "s"));
    expect(problems.join(" ")).toContain("did you mean CARNIVAL_API_KEY?");
    expect(lines.join("\n")).not.toMatch(/ready at/);
  });

  it("names PORT in one line, with no stack trace, when the port is taken", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", () => resolve()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const started = await processes.start({ env: { HOST: "127.0.0.1", PORT: String(port) }, waitForReady: false });
      expect((await started.exited).code).toBe(78);
      const fatal = started.logs().filter((line) => line.level === 60);
      expect(fatal).toEqual([
        expect.objectContaining({
          msg: `PORT=${port} is already in use on 127.0.0.1: stop what listens there, or set PORT to a free port`,
        }),
      ]);
      expect([...started.lines, ...started.stderr].join("\n")).not.toMatch(/EADDRINUSE|at Server\.|node:net/);
    } finally {
      taken.close();
    }
  });

  it("reports the application's, a vendor's and authorization's problems in one run", async () => {
    const { exit, problems } = await fatal({ PORT: "abc", USERCOM_API_KEY: "k".repeat(64) });
    expect(exit.code).toBe(78);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT must be an integer/),
        expect.stringMatching(/USERCOM_API_URL/),
        expect.stringMatching(/caller authentication is not/),
      ]),
    );
  });
});
