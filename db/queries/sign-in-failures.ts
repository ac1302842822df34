import { and, eq, sql } from "drizzle-orm";
import { signInFailures } from "@/db/schema";
import type { Executor } from "../client";

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
