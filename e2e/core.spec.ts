import { expect, test } from "@playwright/test";
import { assertLocalDatabase } from "./assert-local-database";
import { AuthPage, ConfigurationPage, makeAdmin, uniqueEmail } from "./pages/app";

assertLocalDatabase(process.env.E2E_DATABASE_URL);

// c = 0 fills most of the view with points that never escape, so every one of
// them costs the full depth: a few seconds (SLOW) or about half a minute (VERY_SLOW)
// on two cores, long enough to watch and to cancel.
const SLOW = { "Real part": "0", "Imaginary part": "0", Width: "2048", Height: "2048", Depth: "1500" };
const VERY_SLOW = { "Real part": "0", "Imaginary part": "0", Width: "4096", Height: "2048", Depth: "5000" };

test("sign up, render, edit, see the stale picture replaced, cancel, download", async ({ page }) => {
  await new AuthPage(page).signUp(uniqueEmail("core"));
  await expect(page.getByText("No configurations yet.")).toBeVisible();

  const configuration = new ConfigurationPage(page);
  await configuration.create({ Name: "First light", ...SLOW });

  // Before the first picture: a placeholder under a progress overlay that moves.
  await expect(page.getByTestId("render-placeholder")).toBeVisible();
  await expect(configuration.progressBar).toBeVisible();
  await expect(configuration.statusBadge).toHaveText(/Running [1-9]\d?%/);
  await configuration.waitForFreshPicture();
  await expect(page.getByText(/“First light” finished rendering/)).toBeVisible();
  const firstResultId = await configuration.image.getAttribute("data-result-id");
  // The render's own log says who rendered it and how long it took.
  await page.getByText("Log", { exact: true }).click();
  await expect(page.getByRole("list", { name: "Render log" })).toContainText(/Attempt 1 on .*2048x2048, depth 1500/);
  await expect(page.getByRole("list", { name: "Render log" })).toContainText(/Rendered in \d+ ms/);

  // Edit: the old picture stays, marked out of date, under the progress overlay…
  await configuration.save({ Zoom: "0.9", Colormap: "ocean" });
  await expect(configuration.staleNotice).toBeVisible();
  await expect(configuration.image).toHaveAttribute("data-result-id", firstResultId!);
  await expect(configuration.progressBar).toBeVisible();
  // …and is replaced, without a reload, when the new one is ready.
  await configuration.waitForFreshPicture();
  await expect(configuration.staleNotice).toBeHidden();
  await expect(configuration.image).not.toHaveAttribute("data-result-id", firstResultId!);
  await expect(page.getByLabel("Colormap")).toHaveValue("ocean"); // the form shows what was saved
  const secondResultId = await configuration.image.getAttribute("data-result-id");

  // The picture downloads as a PNG named after the configuration and its parameters.
  const downloadPromise = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download PNG" }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe("first-light_c0+0i_d1500_2048x2048_z0.9_ocean.png");

  // Cancel a long render: status cancelled, the previous picture stays.
  await configuration.save({ ...VERY_SLOW });
  await expect(configuration.progressBar).toBeVisible();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(configuration.statusBadge).toHaveText("Cancelled", { timeout: 5_000 });
  await expect(configuration.progressBar).toBeHidden();
  await expect(configuration.image).toHaveAttribute("data-result-id", secondResultId!);
  await expect(configuration.staleNotice).toBeVisible();

  // The list shows it with its thumbnail and status.
  await page.getByRole("link", { name: "Configurations" }).click();
  const item = page.getByTestId("configuration-item").filter({ hasText: "First light" });
  await expect(item.getByTestId("status-badge")).toHaveText("Cancelled");
  await expect(item.getByRole("img", { name: "Thumbnail of First light" })).toBeVisible();

  // Usage: the two finished renders and the cancelled one (what it computed before it stopped) are accounted.
  await page.getByRole("link", { name: "Usage" }).click();
  await expect(page).toHaveURL(/\/usage$/);
  const renders = page.getByRole("table", { name: "This month by kind" }).getByRole("row", { name: /^Renders / });
  await expect(async () => {
    await page.reload(); // the page is rendered once; the cancelled render's cost lands when its threads stop
    await expect(renders).toHaveAccessibleName(/^Renders 3 /, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByRole("img", { name: "CPU seconds per day this month" })).toBeVisible();
});

test("invalid values show field errors and change nothing", async ({ page }) => {
  await new AuthPage(page).signUp(uniqueEmail("invalid"));
  await page.goto("/configurations/new");
  const configuration = new ConfigurationPage(page);
  await configuration.fill({ Depth: "0", Width: "NaN", Zoom: "-1", "Center X": "Infinity", "Real part": "" });
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Depth must be between 1 and 5000")).toBeVisible();
  await expect(page.getByText("Width must be a number")).toBeVisible();
  await expect(page.getByText("Zoom must be greater than 0")).toBeVisible();
  await expect(page.getByText("Center X must be a finite number")).toBeVisible();
  await expect(page.getByText("Real part is required")).toBeVisible();
  // What was typed is kept, and nothing was created.
  await expect(page.getByLabel("Depth")).toHaveValue("0");
  await expect(page).toHaveURL(/\/configurations\/new$/);
  // A size over the free tier's limit is refused the same way.
  await configuration.fill({ Depth: "256", Width: "4096", Height: "4096", Zoom: "1", "Center X": "0", "Real part": "-0.8" });
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("A free account renders up to 8.4 MP; this is 16.8 MP").first()).toBeVisible();
  await expect(page).toHaveURL(/\/configurations\/new$/);
  await page.goto("/configurations");
  await expect(page.getByText("No configurations yet.")).toBeVisible();
});

test("a finished render is announced on another page of the app", async ({ page }) => {
  await new AuthPage(page).signUp(uniqueEmail("toast"));
  await new ConfigurationPage(page).create({ Name: "Background", ...SLOW });
  await page.getByRole("link", { name: "Configurations" }).click();
  await expect(page.getByText("“Background” finished rendering")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("configuration-item").getByTestId("status-badge")).toHaveText("Done");
});

test("another user cannot open someone else's configuration", async ({ page, browser }) => {
  await new AuthPage(page).signUp(uniqueEmail("owner"));
  const url = await new ConfigurationPage(page).create({ Name: "Private", Width: "64", Height: "64" });
  const id = url.split("/").pop();

  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await new AuthPage(other).signUp(uniqueEmail("intruder"));
  await other.goto(url);
  await expect(other.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(other.getByText("Private")).toHaveCount(0);
  const status = await other.request.get(`/api/configurations/${id}/status`);
  expect(status.status()).toBe(404);
  expect(await status.json()).toEqual({ error: { code: "not_found", message: "No such configuration" } });
  // Admin pages and exports do not exist for someone who is not an admin.
  await other.goto("/admin/usage");
  await expect(other.getByRole("heading", { name: "Not found" })).toBeVisible();
  expect((await other.request.get("/api/admin/usage")).status()).toBe(404);
  await otherContext.close();

  // Signed out, pages send you to sign in and routes answer 401.
  const anonymous = await browser.newContext();
  const anonymousPage = await anonymous.newPage();
  await anonymousPage.goto(url);
  await expect(anonymousPage).toHaveURL(/\/sign-in/);
  expect((await anonymousPage.request.get(`/api/configurations/${id}/status`)).status()).toBe(401);
  await anonymous.close();
});

test("sign out, and sign in again with the wrong and the right password", async ({ page }) => {
  const email = uniqueEmail("session");
  const auth = new AuthPage(page);
  await auth.signUp(email);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await auth.signIn(email, "wrong password!");
  await expect(page.getByText("Wrong email or password")).toBeVisible();
  await auth.signIn(email);
  await expect(page).toHaveURL(/\/configurations$/);
});

test("an admin sees what is happening right now and sets tiers", async ({ page, browser }) => {
  const email = uniqueEmail("admin");
  await new AuthPage(page).signUp(email);
  await makeAdmin(email);
  await page.goto("/configurations");
  await page.getByRole("link", { name: "Dashboard" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  // The e2e run's two workers (standard and large) beat.
  await expect(page.getByRole("list", { name: "Workers" }).getByText("alive")).toHaveCount(2);
  await expect(page.getByRole("img", { name: "Queue depth and finished renders over the last hour" })).toBeVisible();
  // The crontab with each task's next run (run_schedules: within the minute).
  await expect(page.getByRole("table", { name: "Crontab" }).getByRole("row", { name: /run_schedules \* \* \* \* \*/ })).toBeVisible();
  expect((await page.request.get("/api/admin/overview")).status()).toBe(200);

  // Admins set tiers: a pro account may render what a free one may not.
  const customer = await browser.newContext();
  const customerPage = await customer.newPage();
  const customerEmail = uniqueEmail("customer");
  await new AuthPage(customerPage).signUp(customerEmail);
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel(`Tier of ${customerEmail}`).selectOption("pro");
  await expect(page.getByText(`${customerEmail} is now pro`)).toBeVisible();
  const big = new ConfigurationPage(customerPage);
  await big.create({ Name: "Big", Width: "4096", Height: "4096", Depth: "16" });
  await big.waitForFreshPicture();

  // Admins read any render's log (the dashboard links running renders and failures to it); others get a 404.
  const resultId = await big.image.getAttribute("data-result-id");
  await page.goto(`/admin/results/${resultId}`);
  await expect(page.getByRole("list", { name: "Render log" })).toContainText(/Attempt 1 on .*4096x4096, depth 16/);
  expect((await customerPage.goto(`/admin/results/${resultId}`))?.status()).toBe(404);
  await customer.close();
});

test("Prometheus metrics answer a scraper with the token, and nobody else", async ({ request }) => {
  const metrics = await request.get("/api/metrics", { headers: { Authorization: `Bearer ${process.env.E2E_METRICS_TOKEN}` } });
  expect(metrics.status()).toBe(200);
  const body = await metrics.text();
  expect(body).toMatch(/^longrun_workers\{state="alive"\} 2$/m);
  expect(body).toContain("# TYPE longrun_jobs gauge");
  expect((await request.get("/api/metrics")).status()).toBe(404);
  expect((await request.get("/api/metrics", { headers: { Authorization: "Bearer wrong-token-wrong-token" } })).status()).toBe(404);
});
