/**
 * The sign-in limit under a concurrent burst, through the function next-auth's authorize()
 * calls, against a real Postgres: a guesser firing all at once gets no more password checks
 * than a patient one.
 */
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIGN_IN_LIMITS } from "@/db/queries/sign-in-failures";
import { users } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/db/test/database";
import { authorizeCredentials } from "./credentials";
import { hashPassword } from "./password";
import { SignInRateLimited } from "./sign-in-limit";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(async () => {
  await test?.drop();
});

const RIGHT_PASSWORD = "the right password";
const uniqueEmail = () => `someone-${randomBytes(4).toString("hex")}@example.test`;
const uniqueIp = () => `203.0.113.${randomBytes(1)[0]}-${randomBytes(3).toString("hex")}`;

async function createUserWithPassword() {
  const [user] = await test.db
    .insert(users)
    .values({ email: uniqueEmail(), passwordHash: await hashPassword(RIGHT_PASSWORD) })
    .returning();
  return user;
}

/** Each attempt's outcome: "checked" (the password was verified and was wrong) or "blocked". */
async function burst(attempts: { email: string; password: string; ip: string }[]) {
  const outcomes = await Promise.allSettled(attempts.map((attempt) => authorizeCredentials(test.db, attempt)));
  return outcomes.map((outcome) => {
    if (outcome.status === "fulfilled") return outcome.value === null ? "checked" : "signed in";
    if (outcome.reason instanceof SignInRateLimited) return "blocked";
    throw outcome.reason;
  });
}
const count = (outcomes: string[], outcome: string) => outcomes.filter((each) => each === outcome).length;

describe("authorizeCredentials under a concurrent burst", () => {
  it("checks at most the per-email limit of 50 concurrent wrong guesses, then refuses the right password", async () => {
    const user = await createUserWithPassword();
    const outcomes = await burst(Array.from({ length: 50 }, () => ({ email: user.email, password: "wrong guess", ip: uniqueIp() })));
    expect(count(outcomes, "checked")).toBe(SIGN_IN_LIMITS.perEmail);
    expect(count(outcomes, "blocked")).toBe(50 - SIGN_IN_LIMITS.perEmail);

    const rightAfterBurst = authorizeCredentials(test.db, { email: user.email, password: RIGHT_PASSWORD, ip: uniqueIp() });
    await expect(rightAfterBurst).rejects.toBeInstanceOf(SignInRateLimited);
    await expect(rightAfterBurst).rejects.toMatchObject({ code: "rate_limited", retryAfterMinutes: SIGN_IN_LIMITS.windowMinutes });
  });

  it("checks at most the per-IP limit of a burst on many emails from one IP", async () => {
    const ip = uniqueIp();
    const attempts = SIGN_IN_LIMITS.perIp + 10;
    const outcomes = await burst(Array.from({ length: attempts }, () => ({ email: uniqueEmail(), password: "wrong guess", ip })));
    expect(count(outcomes, "checked")).toBe(SIGN_IN_LIMITS.perIp);
    expect(count(outcomes, "blocked")).toBe(10);
  });

  it("signs in with the right password under the limit, and forgets that email's failures from that IP", async () => {
    const user = await createUserWithPassword();
    const ip = uniqueIp();
    const guesses = await burst(Array.from({ length: SIGN_IN_LIMITS.perEmail - 1 }, () => ({ email: user.email, password: "typo", ip })));
    expect(count(guesses, "checked")).toBe(SIGN_IN_LIMITS.perEmail - 1);

    expect(await authorizeCredentials(test.db, { email: user.email, password: RIGHT_PASSWORD, ip })).toEqual({
      id: user.id,
      email: user.email,
      sessionGeneration: 0,
    });
    const [{ remaining }] = await test.db.execute<{ remaining: number }>(
      sql`select count(*)::int as remaining from sign_in_failures where email = ${user.email}`,
    );
    expect(remaining).toBe(0);
  });

  it("counts an unknown email's attempts like a known one's", async () => {
    const email = uniqueEmail();
    const outcomes = await burst(Array.from({ length: 20 }, () => ({ email, password: "anything", ip: uniqueIp() })));
    expect(count(outcomes, "checked")).toBe(SIGN_IN_LIMITS.perEmail);
    expect(count(outcomes, "signed in")).toBe(0);
  });
});
