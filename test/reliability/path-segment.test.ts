import { describe, expect, it } from "@jest/globals";
import { pathSegment, pathSegmentProblem } from "../../src/http/path.js";

describe("ids as one URL path segment", () => {
  it.each(["7", "a/b", "a b", "%2e", "...", ".a", "é"])("encodes %j as one segment that stays under its parent", (id) => {
    const url = new URL(`users/${pathSegment(id)}`, "https://vendor.example/v6/");
    expect(url.pathname.startsWith("/v6/users/")).toBe(true);
    expect(decodeURIComponent(url.pathname.slice("/v6/users/".length))).toBe(id);
  });

  it.each([".", ".."])("refuses %j, which URL parsers resolve away (the request would reach another resource)", (id) => {
    expect(new URL(`users/${encodeURIComponent(id)}`, "https://vendor.example/v6/").pathname).not.toMatch(/^\/v6\/users\/.+/);
    expect(pathSegmentProblem(id)).toMatch(/cannot be sent as a URL path segment/);
    expect(() => pathSegment(id)).toThrow(/cannot be sent as a URL path segment/);
  });
});
