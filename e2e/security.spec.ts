import { randomBytes } from "node:crypto";
import { expect, test, type APIRequestContext, type Page, type Request } from "@playwright/test";
import postgres from "postgres";
import { makeUploadFixtures } from "../jobs/test/upload-fixtures";
import { assertLocalDatabase } from "./assert-local-database";
import { AuthPage, ConfigurationPage, makeAdmin, PASSWORD, uniqueEmail } from "./pages/app";
import { UploadsPage } from "./pages/uploads";

assertLocalDatabase(process.env.E2E_DATABASE_URL);

const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1 });
type CsrfBody = { csrfToken: string };
type UploadBody = { upload: { detectedType: string | null; thumbnailSha256: string | null } };

test.afterAll(() => sql.end());

/** A documentation address (RFC 3849) of its own, so each test's failed sign-ins count against nobody else's IP. */
const uniqueIp = () => `2001:db8::${randomBytes(2).toString("hex")}:${randomBytes(2).toString("hex")}`;

/** Collects Content-Security-Policy violations of a page: the console's reports and the DOM's events. */
async function watchForCspViolations(page: Page) {
  const violations: string[] = [];
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(
        `CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber} on ${location.pathname}`,
      );
    });
  });
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|CSP violation/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

test("pages carry a per-request nonce CSP and work under it: sign-up, configurations with a render, uploads, dashboard", async ({
  page,
}) => {
  const violations = await watchForCspViolations(page);

  const signIn = await page.goto("/sign-in");
  const policy = signIn!.headers()["content-security-policy"];
  const scriptSrc = policy
    .split(";")
    .map((directive) => directive.trim())
    .find((directive) => directive.startsWith("script-src "));
  expect(scriptSrc).toMatch(/^script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'$/);
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).toContain("object-src 'none'");
  // One policy only: the static fallback of next.config.mjs must not stack on the page's (it would block every script).
  expect((await signIn!.headersArray()).filter((header) => header.name.toLowerCase() === "content-security-policy")).toHaveLength(1);
  // Next's own scripts carry this response's nonce, and the next page gets another one.
  const nonce = /'nonce-([^']+)'/.exec(policy)![1];
  expect(await page.locator(`script[nonce]`).count()).toBeGreaterThan(0);
  expect(
    await page
      .locator("script")
      .evaluateAll((scripts, value) => scripts.every((script) => (script as HTMLScriptElement).nonce === value), nonce),
  ).toBe(true);
  const again = await page.goto("/sign-up");
  expect(again!.headers()["content-security-policy"]).not.toContain(nonce);
  for (const [name, value] of Object.entries({
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
  })) {
    expect(again!.headers()[name], name).toBe(value);
  }

  // A whole session under the policy: everything that needs JavaScript keeps working.
  const email = uniqueEmail("csp");
  await new AuthPage(page).signUp(email);
  const configuration = new ConfigurationPage(page);
  await configuration.create({ Name: "Under CSP", Width: "96", Height: "96", Depth: "64" });
  await configuration.waitForFreshPicture();
  await expect(page.getByText("“Under CSP” finished rendering")).toBeVisible();
  await page.getByRole("link", { name: "Configurations" }).click();
  await expect(page.getByTestId("configuration-item").getByRole("img", { name: "Thumbnail of Under CSP" })).toBeVisible();

  const fixtures = await makeUploadFixtures();
  const uploads = new UploadsPage(page);
  await uploads.open();
  await uploads.upload([{ name: fixtures.png.name, mimeType: fixtures.png.declaredType, buffer: fixtures.png.bytes }]);
  await expect(uploads.item(fixtures.png.name).getByRole("img")).toBeVisible({ timeout: 20_000 });

  await page.getByRole("link", { name: "Tokens" }).click();
  await page.getByRole("link", { name: "Usage" }).click();
  await expect(page).toHaveURL(/\/usage$/);
  await makeAdmin(email);
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByRole("img", { name: "Queue depth and finished renders over the last hour" })).toBeVisible();
  await page.goto("/this-page-does-not-exist");
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();

  expect(violations).toEqual([]);
});

test("API answers carry static security headers, without passing through the proxy", async ({ page }) => {
  await new AuthPage(page).signUp(uniqueEmail("api-headers"));
  for (const path of ["/api/configurations/status", "/api/activity", "/api/health", "/api/nothing-here"]) {
    const response = await page.request.get(path);
    const headers = response.headers();
    expect(headers["x-content-type-options"], path).toBe("nosniff");
    expect(headers["referrer-policy"], path).toBe("strict-origin-when-cross-origin");
    expect(headers["content-security-policy"], path).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
  }
});

test("the session cookie is HttpOnly and SameSite=Lax, and Secure with a __Secure- name behind https", async ({
  page,
  playwright,
  baseURL,
}) => {
  const email = uniqueEmail("cookie");
  await new AuthPage(page).signUp(email);
  const session = (await page.context().cookies()).find((cookie) => cookie.name === "authjs.session-token");
  expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
  expect(session!.secure).toBe(false); // plain http here (localhost)

  // Behind an https proxy (X-Forwarded-Proto, as Vercel or a reverse proxy sets it), next-auth switches to secure cookies.
  const https = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { "X-Forwarded-Proto": "https" } });
  const csrf = await https.get("/api/auth/csrf");
  const csrfCookie = csrf
    .headersArray()
    .find((header) => header.name.toLowerCase() === "set-cookie" && header.value.startsWith("__Host-authjs.csrf-token="))!;
  expect(csrfCookie.value).toMatch(/; HttpOnly/i);
  expect(csrfCookie.value).toMatch(/; Secure/i);
  const signedIn = await https.post("/api/auth/callback/credentials", {
    form: { email, password: PASSWORD, csrfToken: ((await csrf.json()) as CsrfBody).csrfToken },
    headers: { Cookie: csrfCookie.value.split(";")[0] },
    maxRedirects: 0,
  });
  expect(signedIn.status()).toBe(302);
  const sessionCookie = signedIn
    .headersArray()
    .find((header) => header.name.toLowerCase() === "set-cookie" && header.value.startsWith("__Secure-authjs.session-token="));
  expect(sessionCookie?.value).toMatch(/; HttpOnly/i);
  expect(sessionCookie?.value).toMatch(/; Secure/i);
  expect(sessionCookie?.value).toMatch(/; SameSite=Lax/i);
  await https.dispose();
});

test("sign-out ends the session: its cookie copied before and replayed after is refused, on every device", async ({ page, browser }) => {
  await new AuthPage(page).signUp(uniqueEmail("signout"));
  const copied = (await page.context().cookies()).filter((cookie) => cookie.name === "authjs.session-token");
  expect(copied).toHaveLength(1);
  const otherDevice = await browser.newContext();
  await otherDevice.addCookies(copied);
  const otherPage = await otherDevice.newPage();
  await otherPage.goto("/uploads");
  await expect(otherPage).toHaveURL(/\/uploads$/);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);

  // The copied cookie, replayed: pages send it to sign in, route handlers answer 401.
  const replay = await browser.newContext();
  await replay.addCookies(copied);
  const replayPage = await replay.newPage();
  await replayPage.goto("/configurations");
  await expect(replayPage).toHaveURL(/\/sign-in$/);
  expect((await replay.request.get("/api/activity")).status()).toBe(401);
  // The other device's session ended too.
  await otherPage.goto("/uploads");
  await expect(otherPage).toHaveURL(/\/sign-in$/);
  await Promise.all([replay.close(), otherDevice.close()]);
});

test("a server action replayed from another origin is rejected and changes nothing", async ({ page, baseURL }) => {
  await new AuthPage(page).signUp(uniqueEmail("csrf"));
  const configuration = new ConfigurationPage(page);
  const url = await configuration.create({ Name: "Original", Width: "64", Height: "64" });
  const id = url.split("/").pop()!;
  const nameInDatabase = async () => (await sql<{ name: string }[]>`select name from configurations where id = ${id}`)[0].name;

  // Capture a real save as the browser sends it.
  const saved = page.waitForRequest((request) => request.method() === "POST" && request.headers()["next-action"] !== undefined);
  await configuration.save({ Name: "Renamed" });
  const action = await saved;
  await expect.poll(nameInDatabase).toBe("Renamed");

  const replay = (request: Request, origin: string) =>
    page.request.post(request.url(), {
      headers: {
        "Next-Action": request.headers()["next-action"],
        "Content-Type": request.headers()["content-type"],
        Accept: "text/x-component",
        Origin: origin,
      },
      data: request.postDataBuffer()!.toString("latin1").replaceAll("Renamed", "Hijacked"),
    });
  for (const origin of ["https://evil.example", "null", baseURL!.replace("127.0.0.1", "localhost")]) {
    const response = await replay(action, origin);
    expect(response.status(), origin).toBe(500);
    expect(await response.text()).not.toContain("Hijacked");
  }
  expect(await nameInDatabase()).toBe("Renamed");
  // The same request from our own origin goes through: the rejection above was the origin's doing.
  expect((await replay(action, new URL(baseURL!).origin)).status()).toBe(200);
  expect(await nameInDatabase()).toBe("Hijacked");
});

async function waitForDetectedType(request: APIRequestContext, id: string) {
  let detectedType: string | null = null;
  await expect
    .poll(async () => (detectedType = ((await (await request.get(`/api/uploads/${id}`)).json()) as UploadBody).upload.detectedType), {
      timeout: 20_000,
    })
    .not.toBeNull();
  return detectedType!;
}

test("uploaded HTML and SVG are only ever downloaded, never rendered in our origin", async ({ page }) => {
  await new AuthPage(page).signUp(uniqueEmail("active-content"));
  const files = {
    "page.html": {
      type: "text/html",
      detected: "text/html",
      body: "<!doctype html><html><body><script>document.title = 'pwned'</script><h1>hi</h1></body></html>",
    },
    "drawing.svg": {
      type: "image/svg+xml",
      detected: "image/svg+xml",
      body: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><circle r="5"/></svg>',
    },
  };
  for (const [name, file] of Object.entries(files)) {
    const created = await page.request.post(`/api/uploads?name=${encodeURIComponent(name)}`, {
      headers: { "Content-Type": file.type },
      data: Buffer.from(file.body),
    });
    expect(created.status()).toBe(201);
    const { id } = (await created.json()) as { id: string };
    // Typed by content, as libmagic reads it; served as plain text all the same.
    expect(await waitForDetectedType(page.request, id)).toBe(file.detected);
    const { upload } = (await (await page.request.get(`/api/uploads/${id}`)).json()) as UploadBody;
    expect(upload.thumbnailSha256).toBeNull(); // no inline picture of it either

    const download = await page.request.get(`/api/uploads/${id}/download`);
    const headers = download.headers();
    expect(headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(headers["content-disposition"]).toMatch(/^attachment; filename=/);
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["content-security-policy"]).toMatch(/(^|; )sandbox(;|$)/);
    expect(await download.text()).toBe(file.body);

    // Opened in the browser, it downloads; the page it was opened from stays ours.
    const downloaded = page.waitForEvent("download");
    await page.evaluate((href) => {
      const link = document.createElement("a");
      link.href = href;
      document.body.append(link);
      link.click();
    }, `/api/uploads/${id}/download`);
    expect((await downloaded).suggestedFilename()).toBe(name);
    expect(await page.title()).not.toBe("pwned");
  }

  // Thumbnails are shown inline: raster only, sandboxed too.
  const fixtures = await makeUploadFixtures();
  const created = await page.request.post(`/api/uploads?name=${encodeURIComponent(fixtures.png.name)}`, { data: fixtures.png.bytes });
  const { id } = (await created.json()) as { id: string };
  let thumbnail: string | null = null;
  await expect
    .poll(async () => (thumbnail = ((await (await page.request.get(`/api/uploads/${id}`)).json()) as UploadBody).upload.thumbnailSha256), {
      timeout: 20_000,
    })
    .not.toBeNull();
  const image = await page.request.get(`/api/images/${thumbnail}`);
  expect(image.headers()["content-type"]).toMatch(/^image\/(png|webp|jpeg)$/);
  expect(image.headers()["x-content-type-options"]).toBe("nosniff");
  expect(image.headers()["content-security-policy"]).toMatch(/(^|; )sandbox(;|$)/);
});

test("sign-in says the same for an unknown email and a wrong password, and limits failures per account", async ({ browser }) => {
  const email = uniqueEmail("limited");
  const context = await browser.newContext({ extraHTTPHeaders: { "X-Forwarded-For": uniqueIp() } });
  const page = await context.newPage();
  const auth = new AuthPage(page);
  await auth.signUp(email);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);

  await auth.signIn(uniqueEmail("nobody"), "wrong password!");
  await expect(page.locator("form").getByRole("alert")).toHaveText("Wrong email or password");
  // Ten failures for one account (this one was the first on the unknown email, not on it).
  for (let attempt = 1; attempt <= 10; attempt++) {
    await auth.signIn(email, `wrong password ${attempt}`);
    await expect(page.locator("form").getByRole("alert")).toHaveText("Wrong email or password");
    await expect(page.getByLabel("Email")).toHaveValue(email);
  }
  // The eleventh, even with the right password and from elsewhere, waits out the window.
  await auth.signIn(email);
  await expect(page.locator("form").getByRole("alert")).toHaveText("Too many sign-in attempts; try again in 15 minutes");
  await expect(page).toHaveURL(/\/sign-in$/);
  const elsewhere = await browser.newContext({ extraHTTPHeaders: { "X-Forwarded-For": uniqueIp() } });
  const elsewherePage = await elsewhere.newPage();
  await new AuthPage(elsewherePage).signIn(email);
  await expect(elsewherePage.locator("form").getByRole("alert")).toHaveText("Too many sign-in attempts; try again in 15 minutes");
  // The sign-in API (next-auth's own callback) is held by the same limit.
  const csrf = await elsewherePage.request.get("/api/auth/csrf");
  const callback = await elsewherePage.request.post("/api/auth/callback/credentials", {
    form: { email, password: PASSWORD, csrfToken: ((await csrf.json()) as CsrfBody).csrfToken },
    maxRedirects: 0,
  });
  expect(callback.headers().location).toContain("code=rate_limited");
  // Someone else signing in from the first address is not affected.
  await new AuthPage(await context.newPage()).signUp(uniqueEmail("neighbour"));
  await context.close();
  await elsewhere.close();

  const rows = await sql<{ count: number }[]>`select count(*)::int as count from sign_in_failures where email = ${email}`;
  expect(rows[0].count).toBe(10);
});

test("fifty failures from one IP block it for every account, and only it, whatever the client puts in front of it", async ({ browser }) => {
  const ip = uniqueIp();
  const context = await browser.newContext({ extraHTTPHeaders: { "X-Forwarded-For": ip } });
  const page = await context.newPage();
  const email = uniqueEmail("shared-ip");
  await new AuthPage(page).signUp(email);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);

  // Fifty guesses on fifty unknown emails, through next-auth's callback (what a script would do),
  // each claiming another address in front of the one the proxy appended: that changes nothing.
  const { csrfToken } = (await (await page.request.get("/api/auth/csrf")).json()) as CsrfBody;
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await page.request.post("/api/auth/callback/credentials", {
      form: { email: uniqueEmail(`guess-${attempt}`), password: "guessing", csrfToken },
      headers: { "X-Forwarded-For": `${uniqueIp()}, ${ip}` },
      maxRedirects: 0,
    });
    expect(response.headers().location).toContain("error=CredentialsSignin");
  }
  await new AuthPage(page).signIn(email);
  await expect(page.locator("form").getByRole("alert")).toHaveText("Too many sign-in attempts; try again in 15 minutes");
  await context.close();

  // The same account from another address signs in: its own counter is clean.
  const other = await browser.newContext({ extraHTTPHeaders: { "X-Forwarded-For": uniqueIp() } });
  const otherPage = await other.newPage();
  await new AuthPage(otherPage).signIn(email);
  await expect(otherPage).toHaveURL(/\/configurations$/);
  await other.close();
});

test("sign-up of a taken email says so only after a counted sign-in attempt, and signs its owner in", async ({ browser }) => {
  const context = await browser.newContext({ extraHTTPHeaders: { "X-Forwarded-For": uniqueIp() } });
  const page = await context.newPage();
  const email = uniqueEmail("taken");
  await new AuthPage(page).signUp(email);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);

  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("another password");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.locator("form").getByRole("alert")).toHaveText("An account with this email already exists; sign in instead");
  const failures = await sql<{ count: number }[]>`select count(*)::int as count from sign_in_failures where email = ${email}`;
  expect(failures[0].count).toBe(1);
  const [user] = await sql<{ password_hash: string }[]>`select password_hash from users where email = ${email}`;

  // Its owner, signing up again with their password, is simply signed in; the account is unchanged.
  await new AuthPage(page).signUp(email);
  const [after] = await sql<
    { password_hash: string; count: number }[]
  >`select password_hash, (select count(*)::int from users where email = ${email}) as count from users where email = ${email}`;
  expect(after).toEqual({ password_hash: user.password_hash, count: 1 });
  await context.close();

  // Too short a password is refused before anything else.
  const fresh = await browser.newPage();
  await fresh.goto("/sign-up");
  await fresh.getByLabel("Email").fill(uniqueEmail("short"));
  await fresh.getByLabel("Password").fill("short");
  await fresh.getByRole("button", { name: "Sign up" }).click();
  await expect(fresh.getByText("Password must be at least 8 characters")).toBeVisible();
  await fresh.close();
});
