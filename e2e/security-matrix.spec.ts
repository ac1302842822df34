import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type APIResponse, type Browser, type BrowserContext } from "@playwright/test";
import { encode } from "next-auth/jwt";
import postgres from "postgres";
import { makeUploadFixtures } from "../jobs/test/upload-fixtures";
import { assertLocalDatabase } from "./assert-local-database";
import { ConfigurationPage, makeAdmin, signUpWithToken } from "./pages/app";
import { builtActions, callAction } from "./server-actions";

assertLocalDatabase(process.env.E2E_DATABASE_URL);

/**
 * Every page, route handler and server action, called by someone who must not get
 * another person's data: a second user with the first one's ids, nobody, and an
 * expired session. The lists come from the filesystem and the build's action
 * manifest, so a new route without a row here fails this test.
 */

const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1 });
test.afterAll(() => sql.end());

type Owner = {
  email: string;
  userId: string;
  configurationId: string;
  resultId: string;
  imageSha256: string;
  uploadId: string;
  uploadName: string;
  tokenId: string;
};

/** Things an owner's data would show if it leaked: their email, the names they chose, their user id. */
const secretsOf = (owner: Owner) => [owner.email, owner.userId, "Alpha secret", owner.uploadName];
const STACK_TRACE = /\n\s+at .+:\d+:\d+|node_modules|webpack-internal/;

function expectNoLeak(body: string, owner: Owner, what: string) {
  for (const secret of secretsOf(owner)) expect(body, `${what} leaks ${secret}`).not.toContain(secret);
  expect(body, `${what} shows a stack trace`).not.toMatch(STACK_TRACE);
}

/** Everything the owner has, as text: any change to any of their rows (updated_at included) changes it. */
async function snapshotOf(owner: Owner) {
  const tables = ["configurations", "results", "uploads", "schedules", "watched_sources", "api_tokens", "webdav_entries"];
  const parts: string[] = [];
  for (const table of tables) {
    const [row] = await sql.unsafe(
      `select count(*)::int as count, coalesce(md5(string_agg(t::text, ',' order by t::text)), '') as digest from ${table} t where owner_id = $1`,
      [owner.userId],
    );
    parts.push(`${table}:${row.count}:${row.digest}`);
  }
  const [steps] =
    await sql`select coalesce(md5(string_agg(s::text, ',' order by s::text)), '') as digest from upload_steps s where upload_id = ${owner.uploadId}`;
  const [user] = await sql`select role, tier, password_hash from users where id = ${owner.userId}`;
  return [...parts, `steps:${steps.digest}`, `user:${user.role}:${user.tier}:${user.password_hash}`].join("\n");
}

/** app/**\/<name> relative to the repository, e.g. "app/api/health/route.ts". */
function appFiles(name: string, dir = "app"): string[] {
  return readdirSync(path.join(process.cwd(), dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return appFiles(name, relative);
    return entry.name === name ? [relative] : [];
  });
}

// ---------------------------------------------------------------- the matrix

type PageKind = "owned" | "list" | "admin" | "public" | "home";
type PageProbe = { file: string; kind: PageKind; path: (owner: Owner) => string };

const PAGES: PageProbe[] = [
  { file: "app/page.tsx", kind: "home", path: () => "/" },
  { file: "app/(auth)/sign-in/page.tsx", kind: "public", path: () => "/sign-in" },
  { file: "app/(auth)/sign-up/page.tsx", kind: "public", path: () => "/sign-up" },
  { file: "app/(app)/configurations/page.tsx", kind: "list", path: () => "/configurations" },
  { file: "app/(app)/configurations/new/page.tsx", kind: "list", path: () => "/configurations/new" },
  { file: "app/(app)/configurations/[id]/page.tsx", kind: "owned", path: (owner) => `/configurations/${owner.configurationId}` },
  { file: "app/(app)/uploads/page.tsx", kind: "list", path: () => "/uploads" },
  { file: "app/(app)/uploads/[id]/page.tsx", kind: "owned", path: (owner) => `/uploads/${owner.uploadId}` },
  { file: "app/(app)/tokens/page.tsx", kind: "list", path: () => "/tokens" },
  { file: "app/(app)/usage/page.tsx", kind: "list", path: () => "/usage" },
  { file: "app/(app)/admin/page.tsx", kind: "admin", path: () => "/admin" },
  { file: "app/(app)/admin/usage/page.tsx", kind: "admin", path: () => "/admin/usage" },
  { file: "app/(app)/admin/users/page.tsx", kind: "admin", path: () => "/admin/users" },
  { file: "app/(app)/admin/results/[id]/page.tsx", kind: "admin", path: (owner) => `/admin/results/${owner.resultId}` },
];

/**
 * owned: someone's resource (404 for anyone else); list: the caller's own things;
 * create: makes something for the caller; admin: 404 for non-admins; public: anyone.
 * Session kinds need the web session cookie; token kinds an API token (sessions do not count).
 */
type RouteKind =
  "owned-session" | "list-session" | "create-session" | "admin-session" | "owned-token" | "list-token" | "create-token" | "public";
type RouteProbe = {
  file: string;
  method: "GET" | "POST" | "DELETE";
  kind: RouteKind;
  path: (owner: Owner) => string;
  publicStatus?: number;
};

const V1_RENDER = { re: -0.8, im: 0.156, width: 32, height: 32, depth: 16 };
const ROUTES: RouteProbe[] = [
  { file: "app/api/activity/route.ts", method: "GET", kind: "list-session", path: () => "/api/activity?since=2000-01-01T00:00:00Z" },
  { file: "app/api/admin/overview/route.ts", method: "GET", kind: "admin-session", path: () => "/api/admin/overview" },
  { file: "app/api/admin/usage/route.ts", method: "GET", kind: "admin-session", path: () => "/api/admin/usage" },
  { file: "app/api/auth/[...nextauth]/route.ts", method: "GET", kind: "public", path: () => "/api/auth/session", publicStatus: 200 },
  { file: "app/api/auth/[...nextauth]/route.ts", method: "GET", kind: "public", path: () => "/api/auth/providers", publicStatus: 200 },
  {
    file: "app/api/configurations/[id]/status/route.ts",
    method: "GET",
    kind: "owned-session",
    path: (owner) => `/api/configurations/${owner.configurationId}/status`,
  },
  { file: "app/api/configurations/status/route.ts", method: "GET", kind: "list-session", path: () => "/api/configurations/status" },
  { file: "app/api/health/route.ts", method: "GET", kind: "public", path: () => "/api/health", publicStatus: 200 },
  { file: "app/api/images/[sha256]/route.ts", method: "GET", kind: "owned-session", path: (owner) => `/api/images/${owner.imageSha256}` },
  // Without the scraper's token the metrics do not exist.
  { file: "app/api/metrics/route.ts", method: "GET", kind: "public", path: () => "/api/metrics", publicStatus: 404 },
  {
    file: "app/api/results/[id]/download/route.ts",
    method: "GET",
    kind: "owned-session",
    path: (owner) => `/api/results/${owner.resultId}/download`,
  },
  {
    file: "app/api/results/[id]/log/route.ts",
    method: "GET",
    kind: "owned-session",
    path: (owner) => `/api/results/${owner.resultId}/log`,
  },
  {
    file: "app/api/uploads/[id]/download/route.ts",
    method: "GET",
    kind: "owned-session",
    path: (owner) => `/api/uploads/${owner.uploadId}/download`,
  },
  {
    file: "app/api/uploads/[id]/log/route.ts",
    method: "GET",
    kind: "owned-session",
    path: (owner) => `/api/uploads/${owner.uploadId}/log`,
  },
  { file: "app/api/uploads/[id]/route.ts", method: "GET", kind: "owned-session", path: (owner) => `/api/uploads/${owner.uploadId}` },
  { file: "app/api/uploads/route.ts", method: "GET", kind: "list-session", path: () => "/api/uploads" },
  { file: "app/api/uploads/route.ts", method: "POST", kind: "create-session", path: () => "/api/uploads?name=matrix.txt" },
  // UploadThing is not configured in the e2e run: its endpoint does not exist.
  { file: "app/api/uploadthing/route.ts", method: "GET", kind: "public", path: () => "/api/uploadthing", publicStatus: 404 },
  { file: "app/api/uploadthing/route.ts", method: "POST", kind: "public", path: () => "/api/uploadthing", publicStatus: 404 },
  { file: "app/api/v1/jobs/[id]/route.ts", method: "GET", kind: "owned-token", path: (owner) => `/api/v1/jobs/${owner.resultId}` },
  { file: "app/api/v1/jobs/[id]/route.ts", method: "GET", kind: "owned-token", path: (owner) => `/api/v1/jobs/${owner.uploadId}` },
  { file: "app/api/v1/me/route.ts", method: "GET", kind: "list-token", path: () => "/api/v1/me" },
  { file: "app/api/v1/openapi.json/route.ts", method: "GET", kind: "public", path: () => "/api/v1/openapi.json", publicStatus: 200 },
  {
    file: "app/api/v1/renders/[id]/image/route.ts",
    method: "GET",
    kind: "owned-token",
    path: (owner) => `/api/v1/renders/${owner.resultId}/image`,
  },
  { file: "app/api/v1/renders/[id]/route.ts", method: "GET", kind: "owned-token", path: (owner) => `/api/v1/renders/${owner.resultId}` },
  { file: "app/api/v1/renders/[id]/route.ts", method: "DELETE", kind: "owned-token", path: (owner) => `/api/v1/renders/${owner.resultId}` },
  { file: "app/api/v1/renders/route.ts", method: "GET", kind: "list-token", path: () => "/api/v1/renders" },
  { file: "app/api/v1/renders/route.ts", method: "POST", kind: "create-token", path: () => "/api/v1/renders" },
  {
    file: "app/api/v1/uploads/[id]/download/route.ts",
    method: "GET",
    kind: "owned-token",
    path: (owner) => `/api/v1/uploads/${owner.uploadId}/download`,
  },
  {
    file: "app/api/v1/uploads/[id]/thumbnail/route.ts",
    method: "GET",
    kind: "owned-token",
    path: (owner) => `/api/v1/uploads/${owner.uploadId}/thumbnail`,
  },
  { file: "app/api/v1/uploads/[id]/route.ts", method: "GET", kind: "owned-token", path: (owner) => `/api/v1/uploads/${owner.uploadId}` },
  { file: "app/api/v1/uploads/[id]/route.ts", method: "DELETE", kind: "owned-token", path: (owner) => `/api/v1/uploads/${owner.uploadId}` },
  { file: "app/api/v1/uploads/route.ts", method: "GET", kind: "list-token", path: () => "/api/v1/uploads" },
  { file: "app/api/v1/uploads/route.ts", method: "POST", kind: "create-token", path: () => "/api/v1/uploads?name=matrix.txt" },
];

/** Server actions with the arguments an attacker would send: the owner's ids. A form is `{ form: fields }`. */
/** `refusal`: what the action answers another signed-in user who sends the owner's ids. */
type ActionProbe = { args: (owner: Owner) => unknown[]; refusal?: string };
const CONFIGURATION_FORM = {
  name: "Hijacked",
  re: "0.3",
  im: "0.5",
  depth: "32",
  width: "32",
  height: "32",
  zoom: "1",
  cx: "0",
  cy: "0",
  colormap: "ocean",
};
const ACTIONS: Record<string, ActionProbe> = {
  "app/(auth)/actions.ts#signInWithPassword": { args: (owner) => [{}, { form: { email: owner.email, password: "not their password" } }] },
  "app/(auth)/actions.ts#signUpWithPassword": { args: (owner) => [{}, { form: { email: owner.email, password: "not their password" } }] },
  "app/(auth)/actions.ts#signOutUser": { args: () => [] },
  "app/(app)/configurations/actions.ts#saveConfiguration": {
    args: (owner) => [owner.configurationId, {}, { form: CONFIGURATION_FORM }],
    refusal: "This configuration does not exist",
  },
  "app/(app)/configurations/actions.ts#cancelRender": { args: (owner) => [owner.resultId], refusal: "This render does not exist" },
  "app/(app)/configurations/actions.ts#saveSchedule": {
    args: (owner) => [owner.configurationId, {}, { form: { repeat: "daily", time: "03:00", timeZone: "UTC" } }],
    refusal: "This configuration does not exist",
  },
  "app/(app)/configurations/actions.ts#deleteSchedule": {
    args: (owner) => [owner.configurationId],
    refusal: "This configuration has no schedule",
  },
  "app/(app)/tokens/actions.ts#createToken": { args: () => [{}, { form: { name: "matrix token" } }] },
  "app/(app)/tokens/actions.ts#revokeToken": {
    args: (owner) => [owner.tokenId],
    refusal: "This token does not exist or is already revoked",
  },
  "app/(app)/uploads/actions.ts#reprocessUpload": { args: (owner) => [owner.uploadId], refusal: "This file does not exist" },
  "app/(app)/uploads/actions.ts#deleteUpload": { args: (owner) => [owner.uploadId], refusal: "This file does not exist" },
  "app/(app)/uploads/actions.ts#importDataset": { args: () => ["iris"] },
  // Not a shared file: copying someone's private upload must fail.
  "app/(app)/uploads/actions.ts#copySharedFile": { args: (owner) => [owner.uploadId], refusal: "This file does not exist" },
  "app/(app)/uploads/actions.ts#watchSource": { args: () => [{}, { form: { url: "http://127.0.0.1:9/matrix.csv", name: "matrix" } }] },
  "app/(app)/uploads/actions.ts#unwatchSource": { args: (owner) => [owner.configurationId], refusal: "This watched URL does not exist" },
  "app/(app)/admin/actions.ts#retryRenderAsAdmin": { args: (owner) => [owner.resultId], refusal: "Not found" },
  "app/(app)/admin/actions.ts#cancelRenderAsAdmin": { args: (owner) => [owner.resultId], refusal: "Not found" },
  "app/(app)/admin/actions.ts#retryUploadStepAsAdmin": { args: (owner) => [owner.uploadId, "thumbnail"], refusal: "Not found" },
  "app/(app)/admin/actions.ts#cancelUploadStepAsAdmin": { args: (owner) => [owner.uploadId, "thumbnail"], refusal: "Not found" },
  // A non-admin promoting the owner.
  "app/(app)/admin/actions.ts#changeUserTier": { args: (owner) => [owner.userId, "pro"], refusal: "Not found" },
};

// ---------------------------------------------------------------- setup

async function createOwner(browser: Browser): Promise<Owner> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { email } = await signUpWithToken(page, "matrix-owner");
  const configuration = new ConfigurationPage(page);
  const url = await configuration.create({ Name: "Alpha secret configuration", Width: "64", Height: "64", Depth: "64" });
  await configuration.waitForFreshPicture();
  const schedule = page.getByRole("region", { name: "Schedule" });
  await schedule.getByLabel("Repeat").selectOption("daily");
  await schedule.getByLabel("Time").fill("04:44");
  await schedule.getByRole("button", { name: "Save schedule" }).click();
  await expect(schedule.getByTestId("schedule-summary")).toContainText("Every day at 04:44");

  const fixtures = await makeUploadFixtures();
  const uploadName = "Alpha secret photo.png";
  const created = await page.request.post(`/api/uploads?name=${encodeURIComponent(uploadName)}`, { data: fixtures.png.bytes });
  expect(created.status()).toBe(201);
  const { id: uploadId } = (await created.json()) as { id: string };
  await expect
    .poll(
      async () =>
        ((await (await page.request.get(`/api/uploads/${uploadId}`)).json()) as { upload: { thumbnailSha256: string | null } }).upload
          .thumbnailSha256,
      { timeout: 20_000 },
    )
    .not.toBeNull();
  await context.close(); // the owner stays away: nothing of theirs should change from here on

  const configurationId = url.split("/").pop()!;
  const [row] = await sql<{ user_id: string; result_id: string; image_sha256: string; token_id: string }[]>`
    select u.id as user_id, r.id as result_id, r.image_sha256, t.id as token_id
    from users u join results r on r.owner_id = u.id join api_tokens t on t.owner_id = u.id
    where u.email = ${email} and r.configuration_id = ${configurationId}`;
  return {
    email,
    userId: row.user_id,
    configurationId,
    resultId: row.result_id,
    imageSha256: row.image_sha256,
    uploadId,
    uploadName,
    tokenId: row.token_id,
  };
}

type ErrorBody = { error: { code: string } };
type Identity = { name: string; context: BrowserContext; token?: string; isAdmin?: boolean; hasSession: boolean };

async function expiredSessionContext(browser: Browser, baseURL: string, user: { id: string; email: string }) {
  const secret = process.env.E2E_AUTH_SECRET!;
  const salt = "authjs.session-token";
  const context = await browser.newContext();
  // The same forgery, unexpired, is accepted: the expiry alone is what the matrix tests.
  const valid = await encode({ token: { sub: user.id, email: user.email }, secret, salt, maxAge: 3600 });
  await context.addCookies([{ name: salt, value: valid, url: baseURL }]);
  expect((await context.request.get("/api/configurations/status")).status()).toBe(200);
  await context.clearCookies();
  // Signed and encrypted with the real secret, expired an hour ago: only the expiry is wrong.
  const expired = await encode({ token: { sub: user.id, email: user.email }, secret, salt, maxAge: -3600 });
  await context.addCookies([{ name: salt, value: expired, url: baseURL }]);
  return context;
}

// ---------------------------------------------------------------- the test

const countOthers = async (table: string, exceptOwnerId: string) =>
  (await sql.unsafe(`select count(*)::int as count from ${table} where owner_id <> $1`, [exceptOwnerId]))[0].count as number;

test("every page, route and action refuses other people's ids, no session and an expired session, and changes nothing", async ({
  browser,
  baseURL,
}) => {
  test.setTimeout(300_000);

  // Nothing is forgotten: every page, route handler and action in the app has its row.
  const pageFiles = appFiles("page.tsx").sort();
  expect(pageFiles, "pages missing from PAGES").toEqual([...new Set(PAGES.map((probe) => probe.file))].sort());
  const routeFiles = appFiles("route.ts").sort();
  expect(routeFiles, "route handlers missing from ROUTES").toEqual([...new Set(ROUTES.map((probe) => probe.file))].sort());
  for (const file of routeFiles) {
    const methods = [...readFileSync(file, "utf8").matchAll(/export (?:const|async function|function) (GET|POST|PUT|PATCH|DELETE)\b/g)].map(
      (match) => match[1],
    );
    const destructured = /export const \{ ([A-Z, ]+) \} = handlers/.exec(readFileSync(file, "utf8"))?.[1].split(/,\s*/) ?? [];
    for (const method of [...methods, ...destructured].filter(
      (method) => method !== "POST" || file !== "app/api/auth/[...nextauth]/route.ts",
    )) {
      expect(
        ROUTES.some((probe) => probe.file === file && probe.method === method),
        `${method} ${file} has no row in ROUTES`,
      ).toBe(true);
    }
  }
  const actions = builtActions();
  expect(actions.map((action) => action.key).sort(), "server actions missing from ACTIONS").toEqual(Object.keys(ACTIONS).sort());

  const owner = await createOwner(browser);
  const before = await snapshotOf(owner);

  const intruderContext = await browser.newContext();
  const intruderPage = await intruderContext.newPage();
  const intruder = await signUpWithToken(intruderPage, "matrix-intruder");
  const intruderConfiguration = new ConfigurationPage(intruderPage);
  const intruderConfigurationUrl = await intruderConfiguration.create({ Name: "Intruder's own", Width: "32", Height: "32", Depth: "16" });
  await intruderConfiguration.waitForFreshPicture();
  const [intruderRow] = await sql<{ id: string; tier: string }[]>`select id, tier from users where email = ${intruder.email}`;

  const adminContext = await browser.newContext();
  const adminPage = await adminContext.newPage();
  const adminEmail = (await signUpWithToken(adminPage, "matrix-admin")).email;
  await makeAdmin(adminEmail);

  const identities: Identity[] = [
    { name: "another user", context: intruderContext, token: intruder.token, hasSession: true },
    { name: "no session", context: await browser.newContext(), hasSession: false },
    {
      name: "an expired session",
      context: await expiredSessionContext(browser, baseURL!, { id: owner.userId, email: owner.email }),
      hasSession: false,
    },
  ];

  // Pages.
  for (const probe of PAGES) {
    for (const identity of identities) {
      const page = await identity.context.newPage();
      const what = `${probe.path(owner)} as ${identity.name}`;
      const response = await page.goto(probe.path(owner));
      const body = await page.content();
      if (!identity.hasSession) {
        if (probe.kind === "public") expect(response!.status(), what).toBe(200);
        else await expect(page, what).toHaveURL(/\/sign-in$/);
      } else if (probe.kind === "owned" || probe.kind === "admin") {
        expect(response!.status(), what).toBe(404);
        await expect(page.getByRole("heading", { name: "Not found" }), what).toBeVisible();
      } else if (probe.kind === "public" || probe.kind === "home") {
        await expect(page, what).toHaveURL(/\/configurations$/); // signed in: straight to the app
      } else {
        expect(response!.status(), what).toBe(200);
      }
      expectNoLeak(body, owner, what);
      await page.close();
    }
    // The admin does see admin pages (so the 404s above are about the role, not a broken page).
    if (probe.kind === "admin") {
      const response = await adminPage.goto(probe.path(owner));
      expect(response!.status(), `${probe.path(owner)} as an admin`).toBe(200);
    }
  }

  // Route handlers.
  const [uploadsTable, resultsTable] = ["uploads", "results"];
  const uploadsBefore = await countOthers(uploadsTable, intruderRow.id);
  const resultsBefore = await countOthers(resultsTable, intruderRow.id);
  for (const probe of ROUTES) {
    for (const identity of identities) {
      const what = `${probe.method} ${probe.path(owner)} as ${identity.name}`;
      const usesToken = probe.kind.endsWith("-token");
      const send = (headers: Record<string, string> = {}) => {
        const options = { headers, maxRedirects: 0 };
        if (probe.method === "GET") return identity.context.request.get(probe.path(owner), options);
        if (probe.method === "DELETE") return identity.context.request.delete(probe.path(owner), options);
        const data = probe.path(owner).includes("/renders") ? JSON.stringify(V1_RENDER) : Buffer.from("matrix bytes");
        return identity.context.request.post(probe.path(owner), {
          ...options,
          headers: { ...headers, "Content-Type": "application/json" },
          data,
        });
      };
      // With a token when the route takes tokens and the identity has one; the session cookie goes along anyway.
      const response: APIResponse = await send(usesToken && identity.token ? { Authorization: `Bearer ${identity.token}` } : {});
      const body = await response.text();
      expectNoLeak(body, owner, what);

      if (probe.kind === "public") {
        expect(response.status(), what).toBe(probe.publicStatus);
      } else if (!identity.hasSession) {
        expect(response.status(), what).toBe(401);
        expect((JSON.parse(body) as ErrorBody).error.code).toBe("unauthorized");
      } else if (probe.kind === "owned-session" || probe.kind === "owned-token" || probe.kind === "admin-session") {
        expect(response.status(), what).toBe(404);
        expect((JSON.parse(body) as ErrorBody).error.code).toBe("not_found");
      } else if (probe.kind === "list-session" || probe.kind === "list-token") {
        expect(response.status(), what).toBe(200);
      }
      // A browser session never authorizes the Jobs API.
      if (usesToken && identity.hasSession) {
        const withSessionOnly = await send();
        expect(withSessionOnly.status(), `${what} with a session and no token`).toBe(401);
      }
      if (probe.kind === "admin-session" && identity === identities[0]) {
        expect((await adminContext.request.get(probe.path(owner))).status(), `${what} (admin)`).toBe(200);
      }
    }
  }
  // Nobody without a session created anything through the create routes (the intruder's own creations are theirs).
  expect(await countOthers(uploadsTable, intruderRow.id)).toBe(uploadsBefore);
  expect(await countOthers(resultsTable, intruderRow.id)).toBe(resultsBefore);

  // Server actions, with the owner's ids.
  const origin = new URL(baseURL!).origin;
  const actionId = (key: string) => actions.find((action) => action.key === key)!.id;
  // First, proof that the calls below reach the actions: the intruder's own configuration saves.
  const ownSave = await callAction(
    intruderContext.request,
    actionId("app/(app)/configurations/actions.ts#saveConfiguration"),
    [intruderConfigurationUrl.split("/").pop(), {}, { form: { ...CONFIGURATION_FORM, name: "Intruder renamed" } }],
    origin,
  );
  expect(ownSave.status()).toBe(200);
  expect((await sql`select name from configurations where id = ${intruderConfigurationUrl.split("/").pop()!}`)[0].name).toBe(
    "Intruder renamed",
  );

  for (const [key, probe] of Object.entries(ACTIONS)) {
    if (key.startsWith("app/(auth)/")) continue; // public by nature; sign-in is covered by the rate-limit tests
    for (const identity of identities) {
      const what = `${key} as ${identity.name}`;
      const response = await callAction(identity.context.request, actionId(key), probe.args(owner), origin);
      const body = await response.text();
      expectNoLeak(body, owner, what);
      if (!identity.hasSession) {
        // Signed out: sent to sign in before the action runs.
        expect(response.headers()["x-action-redirect"] ?? "", what).toContain("/sign-in");
      } else {
        expect(response.status(), what).toBe(200);
        if (probe.refusal) expect(body, what).toContain(probe.refusal);
      }
    }
  }
  // Nor make themself pro.
  const promoted = await callAction(
    intruderContext.request,
    actionId("app/(app)/admin/actions.ts#changeUserTier"),
    [intruderRow.id, "pro"],
    origin,
  );
  expect(await promoted.text()).toContain("Not found");
  expect((await sql`select tier from users where id = ${intruderRow.id}`)[0].tier).toBe(intruderRow.tier);

  // And after all of that, not one of the owner's rows changed.
  expect(await snapshotOf(owner)).toBe(before);
  for (const identity of identities) await identity.context.close();
  await adminContext.close();
});
