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
