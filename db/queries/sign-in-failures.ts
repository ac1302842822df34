import { and, eq, sql } from "drizzle-orm";
import { signInFailures } from "@/db/schema";
import type { Database, Executor } from "../client";

/** Failed sign-ins allowed within the window, per email (any IP) and per IP (any email). */
export const SIGN_IN_LIMITS = { windowMinutes: 15, perEmail: 10, perIp: 50 } as const;

/**
 * When sign-in is blocked for this email or this IP: the moment the oldest of the
 * last `limit` failures leaves the window. Null when both are under their limit.
 */
export async function getSignInBlockedUntil(executor: Executor, args: { email: string; ip: string }): Promise<Date | null> {
  const window = sql`now() - make_interval(mins => ${SIGN_IN_LIMITS.windowMinutes})`;
  const rows = await executor.execute<{ blocked_until: string | null }>(sql`
    with by_email as (
      select created_at from sign_in_failures
      where email = ${args.email} and created_at > ${window}
      order by created_at desc limit ${SIGN_IN_LIMITS.perEmail}
    ), by_ip as (
      select created_at from sign_in_failures
      where ip = ${args.ip} and created_at > ${window}
      order by created_at desc limit ${SIGN_IN_LIMITS.perIp}
    )
    select greatest(
      (select min(created_at) from by_email having count(*) >= ${SIGN_IN_LIMITS.perEmail}),
      (select min(created_at) from by_ip having count(*) >= ${SIGN_IN_LIMITS.perIp})
    ) + make_interval(mins => ${SIGN_IN_LIMITS.windowMinutes}) as blocked_until`);
  const blockedUntil = rows[0]?.blocked_until;
  return blockedUntil ? new Date(blockedUntil) : null;
}

export async function recordSignInFailure(executor: Executor, args: { email: string; ip: string }) {
  await executor.insert(signInFailures).values(args);
}

/**
 * Before a password is checked: either the moment sign-in is blocked until, or the
 * attempt recorded as a failure (a success clears it with clearSignInFailures). The
 * check and the record are one step under advisory locks on the email and the IP, so
 * concurrent guesses queue here and at most the limit of them are ever checked.
 * Locks are taken email first, then IP, by every caller: no lock cycle is possible.
 */
export async function beginSignInAttempt(database: Database, args: { email: string; ip: string }): Promise<{ blockedUntil: Date | null }> {
  return database.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('sign_in_failures.email'), hashtext(${args.email}))`);
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('sign_in_failures.ip'), hashtext(${args.ip}))`);
    // A statement of its own after the locks: its snapshot sees every attempt recorded before them.
    const blockedUntil = await getSignInBlockedUntil(tx, args);
    if (!blockedUntil) await recordSignInFailure(tx, args);
    return { blockedUntil };
  });
}

/**
 * After a successful sign-in: forgets this email's failures from this IP only.
 * Failures on the same email from elsewhere (someone guessing) and this IP's
 * failures on other emails keep counting.
 */
export async function clearSignInFailures(executor: Executor, args: { email: string; ip: string }) {
  await executor.delete(signInFailures).where(and(eq(signInFailures.email, args.email), eq(signInFailures.ip, args.ip)));
}

/** Housekeeping: failures older than the window count for nothing. */
export async function purgeOldSignInFailures(executor: Executor) {
  const purged = await executor.execute<{ id: string }>(sql`
    delete from sign_in_failures where created_at < now() - make_interval(mins => ${SIGN_IN_LIMITS.windowMinutes}) returning id`);
  return purged.length;
}
