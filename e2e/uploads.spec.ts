import { createHash } from "node:crypto";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { makeUploadFixtures } from "../jobs/test/upload-fixtures";
import { formatBytes } from "../lib/format";
import { assertLocalDatabase } from "./assert-local-database";
import { AuthPage, makeAdmin, uniqueEmail } from "./pages/app";
import { UploadsPage } from "./pages/uploads";

assertLocalDatabase(process.env.E2E_DATABASE_URL);

const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");
const MAX_BYTES = Number(process.env.E2E_UPLOAD_MAX_BYTES);

test("upload several files and watch checksums, types and thumbnails appear", async ({ page }) => {
  const fixtures = await makeUploadFixtures();
  await new AuthPage(page).signUp(uniqueEmail("uploads"));
  const uploads = new UploadsPage(page);
  await uploads.open();
  await expect(page.getByText("No files yet.")).toBeVisible();

  const chosen = [fixtures.png, fixtures.jpegExif, fixtures.pdf, fixtures.scriptAsPng, fixtures.truncatedJpeg, fixtures.text];
  await uploads.upload(chosen.map((fixture) => ({ name: fixture.name, mimeType: fixture.declaredType, buffer: fixture.bytes })));
  await expect(page.getByTestId("transfer")).toHaveCount(chosen.length);

  for (const fixture of chosen) {
    // Names are kept as given ("..", slashes, unicode), control characters shown as "_".
    const shownName = fixture.name.replace(/\p{Cc}/gu, "_");
    const item = uploads.item(shownName);
    await expect(item.getByTestId("upload-md5")).toHaveText(`md5 ${md5(fixture.bytes)}`, { timeout: 20_000 });
    await expect(item.getByTestId("upload-type")).toContainText(fixture.expectedType);
  }
  await expect(uploads.item(fixtures.png.name).getByRole("img")).toBeVisible();
  await expect(uploads.item(fixtures.jpegExif.name).getByRole("img")).toBeVisible();
  await expect(uploads.step(fixtures.truncatedJpeg.name, "thumbnail")).toHaveAttribute("data-status", "failed");
  await expect(uploads.step(fixtures.pdf.name, "thumbnail")).toHaveCount(0); // not an image: no thumbnail step
  // A script named .png is what its bytes say, flagged against its claim.
  await expect(uploads.item("evil.png").getByTestId("upload-type")).toHaveText("text/htmldeclared image/png");
  await expect(page.getByText(`“${fixtures.png.name}” processed`)).toBeVisible();

  // Its page: the reason a thumbnail failed, and downloads under the original name.
  await page.getByRole("link", { name: fixtures.truncatedJpeg.name }).click();
  await expect(page.getByTestId("upload-step-message")).toContainText(/thumbnail: Corrupt or truncated image/);
  await page.getByRole("link", { name: "← Uploads" }).click();
  await page.getByRole("link", { name: fixtures.png.name }).click();
  await expect(page.getByTestId("image-size")).toHaveText("640x480");
  const downloadPromise = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download original" }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe(fixtures.png.name);
  expect(md5(await streamToBuffer(await download.createReadStream()))).toBe(md5(fixtures.png.bytes));

  // Process again: the steps run again and end with the same md5; the log shows both runs.
  await page.getByRole("button", { name: "Process again" }).click();
  await expect(page.getByTestId("upload-md5")).toHaveText(md5(fixtures.png.bytes));
  await page.getByText("Log", { exact: true }).click();
  await expect(page.getByRole("list", { name: "Processing log" })).toContainText("Processing requested again");
  await expect(page.getByRole("list", { name: "Processing log" }).getByText(/^.*Checksum: md5/)).toHaveCount(2);

  // Delete: back on the list, the file is gone, and its URL is a 404.
  const fileUrl = page.url();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page).toHaveURL(/\/uploads$/);
  await expect(uploads.item(fixtures.png.name)).toHaveCount(0);
  expect((await page.request.get(`${fileUrl.replace("/uploads/", "/api/uploads/")}/download`)).status()).toBe(404);

  // The Usage page shows what the files left use of the storage quota.
  const kept = chosen.filter((fixture) => fixture !== fixtures.png);
  const keptBytes = kept.reduce((sum, fixture) => sum + fixture.bytes.length, 0);
  await page.getByRole("link", { name: "Usage" }).click();
  await expect(page.getByTestId("storage-usage")).toHaveText(
    `Storage: ${formatBytes(keptBytes)} of 1.00 GiB, ${kept.length} of 1,000 files`,
  );
});

test("an uploaded script downloads as inert text; other people's files are 404s", async ({ page, browser }) => {
  const fixtures = await makeUploadFixtures();
  await new AuthPage(page).signUp(uniqueEmail("owner"));
  const uploads = new UploadsPage(page);
  await uploads.open();
  await uploads.upload([{ name: "evil.png", mimeType: "image/png", buffer: fixtures.scriptAsPng.bytes }]);
  await expect(uploads.item("evil.png").getByTestId("upload-type")).toContainText("text/html");
  await page.getByRole("link", { name: "evil.png" }).click();
  await expect(page).toHaveURL(/\/uploads\/[0-9a-f-]{36}$/);
  const fileId = page.url().split("/").at(-1)!;

  const response = await page.request.get(`/api/uploads/${fileId}/download`);
  expect(response.headers()["content-type"]).toBe("text/plain; charset=utf-8");
  expect(response.headers()["content-disposition"]).toMatch(/^attachment; filename="evil.png"/);
  expect(response.headers()["x-content-type-options"]).toBe("nosniff");
  expect(response.headers()["content-security-policy"]).toContain("sandbox");

  const stranger = await browser.newPage();
  await new AuthPage(stranger).signUp(uniqueEmail("stranger"));
  for (const path of [`/api/uploads/${fileId}`, `/api/uploads/${fileId}/download`, `/api/uploads/${fileId}/log`]) {
    const foreign = await stranger.request.get(path);
    expect(foreign.status(), path).toBe(404);
    expect(await foreign.json()).toEqual({ error: { code: "not_found", message: "No such file" } });
  }
  expect((await stranger.goto(`/uploads/${fileId}`))?.status()).toBe(404);
  expect((await stranger.request.get("/api/uploads")).ok()).toBe(true);
  expect(((await (await stranger.request.get("/api/uploads")).json()) as { uploads: unknown[] }).uploads).toEqual([]);
  await stranger.close();
});

test("files past the size limit are refused, in the page and by the route while streaming", async ({ page, context, baseURL }) => {
  await new AuthPage(page).signUp(uniqueEmail("limits"));
  const uploads = new UploadsPage(page);
  await uploads.open();
  await uploads.upload([{ name: "too-big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(MAX_BYTES + 1) }]);
  await expect(page.getByTestId("transfer")).toContainText("Larger than the 5.0 MiB limit");

  // A client that does not say how long its body is: cut off while streaming.
  const cookie = (await context.cookies()).map(({ name, value }) => `${name}=${value}`).join("; ");
  const body = new ReadableStream({
    start(controller) {
      for (let sent = 0; sent <= MAX_BYTES; sent += 1 << 20) controller.enqueue(new Uint8Array(1 << 20));
      controller.close();
    },
  });
  const response = await fetch(`${baseURL}/api/uploads?name=stream.bin`, {
    method: "POST",
    body,
    headers: { cookie },
    duplex: "half",
  } as RequestInit);
  expect(response.status).toBe(413);
  expect(await response.json()).toEqual({ error: { code: "file_too_large", message: "File is larger than the 5.0 MiB limit" } });
  // A name is required; nothing is kept from refused uploads.
  expect((await page.request.post("/api/uploads", { data: Buffer.from("x") })).status()).toBe(400);
  expect(((await (await page.request.get("/api/uploads")).json()) as { uploads: unknown[] }).uploads).toEqual([]);
});

test("process a sample dataset into your own files", async ({ page }) => {
  await new AuthPage(page).signUp(uniqueEmail("datasets"));
  const uploads = new UploadsPage(page);
  await uploads.open();
  await page.getByTestId("dataset").filter({ hasText: "rotated-photo.jpg" }).getByRole("button", { name: "Process" }).click();
  await expect(uploads.step("rotated-photo.jpg", "thumbnail")).toHaveAttribute("data-status", "succeeded", { timeout: 20_000 });
  await page.getByRole("link", { name: "rotated-photo.jpg" }).click();
  await expect(page.getByTestId("image-size")).toHaveText("600x800"); // EXIF orientation applied
  await expect(page.getByText("From dataset")).toBeVisible();
});

async function streamToBuffer(stream: NodeJS.ReadableStream) {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Buffer));
  return Buffer.concat(parts);
}

test("watch a URL, with its address checked, and stop watching it", async ({ page }) => {
  await new AuthPage(page).signUp(uniqueEmail("sources"));
  const uploads = new UploadsPage(page);
  await uploads.open();
  const form = page.getByRole("form", { name: "Watch a URL" });
  await form.getByLabel("URL").fill("ftp://example.com/data.csv");
  await form.getByRole("button", { name: "Watch" }).click();
  await expect(form.getByText("Enter an http(s) URL")).toBeVisible();

  // The e2e workers refuse private addresses, as a production worker does.
  await form.getByLabel("URL").fill("http://127.0.0.1:9/data.csv");
  await form.getByLabel("Check every").selectOption({ label: "hour" });
  await form.getByRole("button", { name: "Watch" }).click();
  const sources = page.getByRole("list", { name: "Watched sources" });
  await expect(sources).toContainText("http://127.0.0.1:9/data.csv");
  // The crontab checks due sources every minute.
  await expect(sources).toContainText("Failed: 127.0.0.1 is a private or local address", { timeout: 75_000 });

  await sources.getByRole("button", { name: "Stop watching" }).click();
  await expect(sources).toHaveCount(0);
});

test("admins may watch a URL for everyone; anyone downloads a shared file and copies it into their own files", async ({ browser }) => {
  const adminPage = await browser.newPage();
  const adminEmail = uniqueEmail("sharing-admin");
  await new AuthPage(adminPage).signUp(adminEmail);
  await makeAdmin(adminEmail);
  const adminUploads = new UploadsPage(adminPage);
  await adminUploads.open();
  await expect(adminPage.getByRole("form", { name: "Watch a URL" }).getByLabel(/For everyone/)).toBeVisible();

  // The e2e workers cannot reach a public URL: the admin uploads the file and it is flagged shared
  // in the database, as the worker flags each version of a source for everyone (integration-tested).
  const bytes = Buffer.from("station,temperature\nOslo,-3\n");
  await adminUploads.upload([{ name: "weather.csv", mimeType: "text/csv", buffer: bytes }]);
  await expect(adminUploads.item("weather.csv").getByTestId("upload-md5")).toHaveText(`md5 ${md5(bytes)}`, { timeout: 20_000 });
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1 });
  await sql`update uploads set is_shared = true where name = 'weather.csv' and owner_id = (select id from users where email = ${adminEmail})`;
  await sql.end();

  const page = await browser.newPage();
  await new AuthPage(page).signUp(uniqueEmail("sharing"));
  const uploads = new UploadsPage(page);
  await uploads.open();
  await expect(page.getByRole("form", { name: "Watch a URL" }).getByLabel(/For everyone/)).toHaveCount(0);
  const shared = page.getByRole("list", { name: "Shared files" }).getByTestId("dataset").filter({ hasText: "weather.csv" });
  const download = await page.request.get((await shared.getByRole("link", { name: "Download" }).getAttribute("href"))!);
  expect(await download.body()).toEqual(bytes);

  await shared.getByRole("button", { name: "Process" }).click();
  await expect(page.getByText("Copied “weather.csv” into your files; processing")).toBeVisible();
  await expect(uploads.item("weather.csv").getByTestId("upload-md5")).toHaveText(`md5 ${md5(bytes)}`, { timeout: 20_000 });
});
