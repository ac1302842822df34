import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, it } from "vitest";
import { describeError, isDatabaseUnavailable } from "./errors";

const postgresError = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("describeError", () => {
  it("gives a failed query's reason from the database, not drizzle's statement and parameters", () => {
    const error = new DrizzleQueryError(
      'update "results" set "status" = $1 where "results"."id" = $2',
      ["running", "id"],
      postgresError("canceling statement due to lock timeout", "55P03"),
    );
    expect(error.message).toMatch(/^Failed query: update/);
    expect(describeError(error)).toBe("canceling statement due to lock timeout");
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it("leaves other errors as they are", () => {
    expect(describeError(new Error("Timed out after 2 h"))).toBe("Timed out after 2 h");
    expect(describeError("a string")).toBe("a string");
  });

  it("still tells an unreachable database by its cause", () => {
    const error = new DrizzleQueryError("select 1", [], postgresError("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"));
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(describeError(error)).toBe("connect ECONNREFUSED 127.0.0.1:5432");
  });
});
