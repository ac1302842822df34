import { describe, expect, it } from "vitest";
import { evaluateIfHeader, parseIfHeader } from "./webdav-server-if-header";

describe("parseIfHeader", () => {
  it("reads untagged and tagged lists, Not, tokens and etags", () => {
    expect(parseIfHeader(`(<urn:uuid:1> ["etag"]) (Not <DAV:no-lock>)`)).toEqual([
      {
        resource: null,
        conditions: [
          { isNot: false, kind: "token", token: "urn:uuid:1" },
          { isNot: false, kind: "etag", etag: `"etag"` },
        ],
      },
      { resource: null, conditions: [{ isNot: true, kind: "token", token: "DAV:no-lock" }] },
    ]);
    expect(parseIfHeader(`<http://h/uploads/a> (<urn:uuid:1>) <http://h/uploads/b> (["x"])`)).toEqual([
      { resource: "http://h/uploads/a", conditions: [{ isNot: false, kind: "token", token: "urn:uuid:1" }] },
      { resource: "http://h/uploads/b", conditions: [{ isNot: false, kind: "etag", etag: `"x"` }] },
    ]);
  });

  it.each(["", "()", "(<urn:uuid:1>", "<http://h/a>", "(nonsense)", "([])"])("refuses %j", (header) =>
    expect(parseIfHeader(header)).toBeNull(),
  );
});

describe("evaluateIfHeader", () => {
  const state = { etag: `"e1"`, lockTokens: ["urn:uuid:1"] };
  const evaluate = (header: string, current: typeof state | null = state) => evaluateIfHeader(parseIfHeader(header)!, () => current);

  it("holds when any list has all its conditions met", () => {
    expect(evaluate(`(<urn:uuid:1>)`)).toBe(true);
    expect(evaluate(`(<urn:uuid:2>)`)).toBe(false);
    expect(evaluate(`(<urn:uuid:2>) (["e1"])`)).toBe(true);
    expect(evaluate(`(<urn:uuid:1> ["e2"])`)).toBe(false);
    expect(evaluate(`(Not <DAV:no-lock>)`)).toBe(true);
    expect(evaluate(`(<DAV:no-lock>)`)).toBe(false);
    expect(evaluate(`([W/"e1"])`)).toBe(true);
    expect(evaluate(`(["e1"])`, null)).toBe(false);
  });
});
