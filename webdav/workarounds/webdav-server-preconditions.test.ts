import { describe, expect, it } from "vitest";
import { evaluatePreconditions, readPreconditions } from "./webdav-server-preconditions";

describe("readPreconditions", () => {
  it("reads etag lists, * and dates, ignoring an invalid date", () => {
    expect(readPreconditions({})).toBeNull();
    expect(readPreconditions({ "if-modified-since": "yesterday" })).toBeNull();
    expect(readPreconditions({ "if-match": `"a,b", W/"c"`, "if-none-match": " * " })).toEqual({
      ifMatch: [`"a,b"`, `W/"c"`],
      ifNoneMatch: "*",
      ifModifiedSince: null,
      ifUnmodifiedSince: null,
    });
  });
});

describe("evaluatePreconditions", () => {
  const version = { etag: `"e1"`, modifiedAt: new Date("2026-01-02T03:04:05.678Z") };
  const evaluate = (headers: Record<string, string>, method = "PUT", current: typeof version | null = version) =>
    evaluatePreconditions(readPreconditions(headers)!, current, method);

  it("If-Match compares strongly, and * needs the resource", () => {
    expect(evaluate({ "if-match": `"e0", "e1"` })).toBe("pass");
    expect(evaluate({ "if-match": `W/"e1"` })).toBe("failed");
    expect(evaluate({ "if-match": "*" })).toBe("pass");
    expect(evaluate({ "if-match": "*" }, "PUT", null)).toBe("failed");
  });

  it("If-None-Match compares weakly: 304 for GET and HEAD, 412 otherwise", () => {
    expect(evaluate({ "if-none-match": `W/"e1"` }, "GET")).toBe("not-modified");
    expect(evaluate({ "if-none-match": `"e1"` }, "HEAD")).toBe("not-modified");
    expect(evaluate({ "if-none-match": `"e1"` }, "DELETE")).toBe("failed");
    expect(evaluate({ "if-none-match": "*" })).toBe("failed");
    expect(evaluate({ "if-none-match": "*" }, "PUT", null)).toBe("pass");
    expect(evaluate({ "if-none-match": `"e2"` }, "GET")).toBe("pass");
  });

  it("dates compare in whole seconds; If-Match and If-None-Match take precedence over them", () => {
    expect(evaluate({ "if-unmodified-since": "Fri, 02 Jan 2026 03:04:05 GMT" })).toBe("pass");
    expect(evaluate({ "if-unmodified-since": "Fri, 02 Jan 2026 03:04:04 GMT" })).toBe("failed");
    expect(evaluate({ "if-unmodified-since": "Fri, 02 Jan 2026 03:04:04 GMT", "if-match": `"e1"` })).toBe("pass");
    expect(evaluate({ "if-modified-since": "Fri, 02 Jan 2026 03:04:05 GMT" }, "GET")).toBe("not-modified");
    expect(evaluate({ "if-modified-since": "Fri, 02 Jan 2026 03:04:04 GMT" }, "GET")).toBe("pass");
    expect(evaluate({ "if-modified-since": "Fri, 02 Jan 2026 03:04:05 GMT" }, "PUT")).toBe("pass");
    expect(evaluate({ "if-modified-since": "Fri, 02 Jan 2026 03:04:05 GMT", "if-none-match": `"e2"` }, "GET")).toBe("pass");
  });
});
