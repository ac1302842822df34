import { db } from "@/db";
import { getDatabaseTime } from "@/db/queries/results";

/** How long a health check waits for the database before calling it unreachable. */
const DATABASE_TIMEOUT_MS = 2_000;

/**
 * For load balancers and orchestrators: 200 when the web answers and reaches
 * the database, 503 otherwise. Public, and says nothing about the data.
 */
export async function GET() {
  const started = performance.now();
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out")), DATABASE_TIMEOUT_MS).unref());
  try {
    await Promise.race([getDatabaseTime(db), timeout]);
    return Response.json(
      { status: "ok", database: "ok", databaseMs: Math.round(performance.now() - started) },
      { headers: { "Cache-Control": "no-store" } },
    );
  } catch (error) {
    console.error("health check: database unreachable", error);
    return Response.json({ status: "unavailable", database: "unreachable" }, { status: 503, headers: { "Cache-Control": "no-store" } });
  }
}
