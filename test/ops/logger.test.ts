import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "@jest/globals";
import { createLogger, withoutPathRedaction } from "../../src/logging.js";

/** The logger itself: secrets are scrubbed from every line, with or without path redaction. */
describe("logger", () => {
  const SECRET = "configured-secret-4242";
  const capture = () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    return { lines, logger: createLogger({ level: "info", secrets: [SECRET], destination }) };
  };

  it("redacts credential fields by path and configured secret values anywhere", () => {
    const { lines, logger } = capture();
    logger.info({ request: { headers: { authorization: "Bearer caller-token" } }, note: `key is ${SECRET}` }, "line");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, any>;
    expect(line.request.headers.authorization).toBe("[redacted]");
    expect(line.note).toBe("key is [redacted]");
  });

  it("still scrubs configured secrets from lines written without path redaction", () => {
    const { lines, logger } = capture();
    const fast = withoutPathRedaction(logger);
    fast.info({ operation: { name: SECRET }, request: { authorization: "Bearer kept-as-is" } }, "operation");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, any>;
    expect(line.operation.name).toBe("[redacted]");
    expect(lines[0]).not.toContain(SECRET);
    // Path redaction is what this logger leaves out, so it is only for lines built from safe fields.
    expect(line.request.authorization).toBe("Bearer kept-as-is");
    expect(line.service).toBe("attributes-subgraph");
  });
});

/** LOG_SYNC=false: lines leave the request path and are written in the background, none lost. */
describe("asynchronous logger", () => {
  it("returns before writing, then writes every line in order, secrets scrubbed", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "async-log-"));
    const file = path.join(dir, "out.log");
    const secret = "configured-secret-4242";
    const logger = createLogger({ level: "info", secrets: [secret], sync: false, target: file });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the destination opens its file
    for (let i = 0; i < 2_000; i++) logger.info({ i, note: `key ${secret}` }, "line");
    // A synchronous destination would have written all 2,000 lines by now.
    expect(readFileSync(file, "utf8").split("\n").filter(Boolean).length).toBeLessThan(2_000);
    const written = () => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
    for (const deadline = Date.now() + 5_000; written().length < 2_000 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const lines = written();
    expect(lines.map((line) => (JSON.parse(line) as { i: number }).i)).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    expect(lines.join("\n")).not.toContain(secret);
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes synchronously when asked (LOG_SYNC=true)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sync-log-"));
    const file = path.join(dir, "out.log");
    const logger = createLogger({ level: "info", sync: true, target: file });
    for (let i = 0; i < 100; i++) logger.info({ i }, "line");
    expect(readFileSync(file, "utf8").split("\n").filter(Boolean)).toHaveLength(100);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("asynchronous logger whose target does not keep up", () => {
  it("holds at most its buffer, drops the rest, and reports every dropped line", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "async-drop-"));
    const file = path.join(dir, "out.log");
    let dropped = 0;
    const logger = createLogger({ level: "info", sync: false, target: file, maxBufferedBytes: 1_024, onDrop: () => dropped++ });
    // The file is not open yet when these are logged: everything waits in the buffer, which holds 1 KiB.
    for (let i = 0; i < 100; i++) logger.info({ i }, "line");
    const written = () => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
    for (const deadline = Date.now() + 5_000; written().length + dropped < 100 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const kept = written();
    expect(dropped).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length + dropped).toBe(100);
    expect(kept.join("\n").length).toBeLessThanOrEqual(1_024);
    rmSync(dir, { recursive: true, force: true });
  });
});
