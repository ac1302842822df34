import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signInFailures } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/db/test/database";
import {
  clearSignInFailures,
  getSignInBlockedUntil,
  purgeOldSignInFailures,
  recordSignInFailure,
  SIGN_IN_LIMITS,
} from "./sign-in-failures";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(async () => {
  await test?.drop();
});

const uniqueEmail = () => `someone-${randomBytes(4).toString("hex")}@example.test`;
const uniqueIp = () => `198.51.100.${randomBytes(1)[0]}-${randomBytes(3).toString("hex")}`;
/** Failures that happened `minutesAgo` minutes ago (the database's clock, as the limiter reads it). */
async function failuresAgo(count: number, args: { email: string; ip: string }, minutesAgo: number) {
  await test.db
    .insert(signInFailures)
    .values(
      Array.from({ length: count }, () => ({ ...args, createdAt: sql`now() - make_interval(mins => ${minutesAgo})` as unknown as Date })),
    );
}
const minutesFromNow = (moment: Date | null) => (moment ? Math.round((moment.getTime() - Date.now()) / 60_000) : null);

describe("sign-in rate limit", () => {
  it("blocks an email after its tenth failure, from any IP, until the oldest of those ten leaves the window", async () => {
    const email = uniqueEmail();
    await failuresAgo(4, { email, ip: uniqueIp() }, 10);
    for (let i = 0; i < SIGN_IN_LIMITS.perEmail - 5; i++) await recordSignInFailure(test.db, { email, ip: uniqueIp() });
    expect(await getSignInBlockedUntil(test.db, { email, ip: uniqueIp() })).toBeNull();

    await recordSignInFailure(test.db, { email, ip: uniqueIp() });
    // The ten in the window: four from 10 minutes ago, so five minutes left to wait.
    expect(minutesFromNow(await getSignInBlockedUntil(test.db, { email, ip: uniqueIp() }))).toBe(5);
    // Other emails are not affected.
    expect(await getSignInBlockedUntil(test.db, { email: uniqueEmail(), ip: uniqueIp() })).toBeNull();
  });

  it("does not count failures older than the window, and housekeeping deletes them", async () => {
    const email = uniqueEmail();
    const ip = uniqueIp();
    await failuresAgo(SIGN_IN_LIMITS.perEmail, { email, ip }, SIGN_IN_LIMITS.windowMinutes + 1);
    expect(await getSignInBlockedUntil(test.db, { email, ip })).toBeNull();
    expect(await purgeOldSignInFailures(test.db)).toBeGreaterThanOrEqual(SIGN_IN_LIMITS.perEmail);
    const [{ count }] = await test.db.execute<{ count: number }>(
      sql`select count(*)::int as count from sign_in_failures where email = ${email}`,
    );
    expect(count).toBe(0);
  });

  it("blocks an IP after fifty failures on any emails, and not other IPs", async () => {
    const ip = uniqueIp();
    for (let i = 0; i < SIGN_IN_LIMITS.perIp - 1; i++) await recordSignInFailure(test.db, { email: uniqueEmail(), ip });
    expect(await getSignInBlockedUntil(test.db, { email: uniqueEmail(), ip })).toBeNull();
    await recordSignInFailure(test.db, { email: uniqueEmail(), ip });
    expect(minutesFromNow(await getSignInBlockedUntil(test.db, { email: uniqueEmail(), ip }))).toBe(SIGN_IN_LIMITS.windowMinutes);
    expect(await getSignInBlockedUntil(test.db, { email: uniqueEmail(), ip: uniqueIp() })).toBeNull();
  });

  it("a successful sign-in forgets only its own email's failures from its own IP", async () => {
    const email = uniqueEmail();
    const ownIp = uniqueIp();
    const guesserIp = uniqueIp();
    await failuresAgo(3, { email, ip: ownIp }, 1);
    await failuresAgo(SIGN_IN_LIMITS.perEmail - 3, { email, ip: guesserIp }, 1);
    const otherEmail = uniqueEmail();
    await failuresAgo(2, { email: otherEmail, ip: ownIp }, 1);
    expect(await getSignInBlockedUntil(test.db, { email, ip: ownIp })).not.toBeNull();

    await clearSignInFailures(test.db, { email, ip: ownIp });
    const remaining = await test.db.execute<{ email: string; ip: string; count: number }>(
      sql`select email, ip, count(*)::int as count from sign_in_failures where email in (${email}, ${otherEmail}) group by email, ip order by count`,
    );
    expect(remaining.map((row) => ({ ...row }))).toEqual([
      { email: otherEmail, ip: ownIp, count: 2 },
      { email, ip: guesserIp, count: SIGN_IN_LIMITS.perEmail - 3 },
    ]);
    expect(await getSignInBlockedUntil(test.db, { email, ip: ownIp })).toBeNull();
  });
});
