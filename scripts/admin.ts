import { z } from "zod";
import { createDatabase } from "@/db/client";
import { updateUserByEmail } from "@/db/queries/users";
import { getEnvOrExit, getLocalStackEnv } from "@/lib/env";

/**
 * `npm run admin -- set-tier EMAIL free|pro` and `npm run admin -- set-role EMAIL user|admin`.
 * Uses DATABASE_URL, or the embedded database of a running `npm start`.
 */
const commandSchema = z.discriminatedUnion("command", [
  z.object({ command: z.literal("set-tier"), email: z.email(), value: z.enum(["free", "pro"]) }),
  z.object({ command: z.literal("set-role"), email: z.email(), value: z.enum(["user", "admin"]) }),
]);

const [command, email, value] = process.argv.slice(2);
const parsed = commandSchema.safeParse({ command, email: email?.toLowerCase(), value });
if (!parsed.success) {
  console.error("usage: npm run admin -- set-tier EMAIL free|pro\n       npm run admin -- set-role EMAIL user|admin");
  console.error(parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n"));
  process.exit(2);
}

const localEnv = getEnvOrExit(getLocalStackEnv);
const url = localEnv.DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${localEnv.EMBEDDED_POSTGRES_PORT}/longrun`;
const db = createDatabase(url, { max: 1, applicationName: "longrun-admin" });
try {
  const change = parsed.data.command === "set-tier" ? { tier: parsed.data.value } : { role: parsed.data.value };
  const updated = await updateUserByEmail(db, { email: parsed.data.email, change });
  if (!updated) {
    console.error(`No account with the email ${parsed.data.email}`);
    process.exitCode = 1;
  } else {
    console.log(`${updated.email}: tier ${updated.tier}, role ${updated.role}`);
  }
} catch (error) {
  console.error(
    `Could not reach the database at ${url.replace(/:[^:@/]*@/, ":***@")}: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
} finally {
  await db.$client.end();
}
