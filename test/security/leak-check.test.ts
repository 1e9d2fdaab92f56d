import { describe, expect, it } from "@jest/globals";
import { assertNoSecretLeaked } from "../support/subgraph.js";

/** The harness's leak check (run by every suite's close) must itself be able to fail. */
describe("secret leak check", () => {
  it("finds a secret in a response or a log line, naming neither the secret nor its full value", () => {
    expect(() => assertNoSecretLeaked(["s3cret-value-123"], ['{"data":"x s3cret-value-123"}'], [])).toThrow(
      /s3c…\(16 chars\) in response #0/,
    );
    expect(() => assertNoSecretLeaked(["s3cret-value-123"], [], ["a", "log s3cret-value-123"])).toThrow(/in log line #1/);
    expect(() => assertNoSecretLeaked(["s3cret-value-123"], ["clean"], ["clean"])).not.toThrow();
  });
});
