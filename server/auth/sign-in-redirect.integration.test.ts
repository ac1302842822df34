import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { buildWebIfNeeded, startStandaloneWeb } from "@/scripts/lib/build";
import { freePort, stopService, waitForHttp, type Service } from "@/scripts/lib/processes";
import { hashPassword } from "./password";

// The built web as containers and `npm start` run it: listening on every interface (HOSTNAME=0.0.0.0).
// next-auth's redirects must point where the browser came from, never at the listening address.
const PASSWORD = "correct horse battery staple";

let test: TestDatabase;
let web: Service;
let port: number;
let email: string;
beforeAll(async () => {
  buildWebIfNeeded();
  test = await createTestDatabase();
  const user = await createTestUser(test.db);
  await test.db
    .update(users)
    .set({ passwordHash: await hashPassword(PASSWORD) })
    .where(eq(users.id, user.id));
  email = user.email;
  port = await freePort();
  web = startStandaloneWeb({
    port,
    hostname: "0.0.0.0",
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", DATABASE_URL: test.url, AUTH_SECRET: "test-secret-".repeat(4) },
  });
  await waitForHttp(`http://127.0.0.1:${port}/api/health`);
}, 600_000);
afterAll(async () => {
  if (web) await stopService(web);
  await test?.drop();
});

/** next-auth's credentials callback, as a script signs in: the CSRF token and its cookie first. Sent to 127.0.0.1 with `headers`. */
async function signIn(password: string, headers: Record<string, string>) {
  const base = `http://127.0.0.1:${port}/api/auth`;
  const csrf = await fetch(`${base}/csrf`, { headers });
  const cookie = csrf.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await fetch(`${base}/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { ...headers, cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email, password, csrfToken }),
  });
  expect(response.status).toBe(302);
  return response.headers.get("location");
}

describe("sign-in redirects of the web listening on 0.0.0.0", () => {
  it("go to the host the request named, after a sign-in and after a wrong password", async () => {
    const host = { host: `localhost:${port}` };
    expect(await signIn(PASSWORD, host)).toBe(`http://localhost:${port}`);
    expect(await signIn("wrong", host)).toBe(`http://localhost:${port}/sign-in?error=CredentialsSignin&code=credentials`);
    const signInPage = await fetch(`http://127.0.0.1:${port}/api/auth/signin`, { headers: host, redirect: "manual" });
    expect(signInPage.headers.get("location")).toBe(`/sign-in?callbackUrl=${encodeURIComponent(`http://localhost:${port}`)}`);
  });

  it("go to the public address a proxy in front names (X-Forwarded-Host and -Proto)", async () => {
    const proxied = { host: `127.0.0.1:${port}`, "x-forwarded-host": "longrun.example", "x-forwarded-proto": "https" };
    expect(await signIn(PASSWORD, proxied)).toBe("https://longrun.example");
  });
});
