import { expect, test } from "@playwright/test";
import { assertLocalDatabase } from "./assert-local-database";
import { AuthPage, uniqueEmail } from "./pages/app";

assertLocalDatabase(process.env.E2E_DATABASE_URL);

test("create an API token, shown once, that authorizes the API (a session does not), and revoke it", async ({ page, request }) => {
  const email = uniqueEmail("tokens");
  await new AuthPage(page).signUp(email);
  await page.getByRole("link", { name: "Tokens" }).click();
  await expect(page.getByText("No tokens yet.")).toBeVisible();

  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByText("Give the token a name")).toBeVisible();
  await page.getByLabel("Token name").fill("nightly script");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("new-token").textContent())!;
  expect(token).toMatch(/^lr_[A-Za-z0-9_-]{43}$/);

  // The token authorizes the API; the browser's session cookie does not.
  const me = await request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect(await me.json()).toMatchObject({ email, tier: "free" });
  const withCookie = await page.request.get("/api/v1/me");
  expect(withCookie.status()).toBe(401);
  expect(await withCookie.json()).toMatchObject({ error: { code: "unauthorized" } });

  // Never shown again; the list says when it was last used.
  await page.reload();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(page.getByTestId("token")).toContainText(/nightly script.*last used/s);

  await page.getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByText("Revoked “nightly script”")).toBeVisible();
  const revoked = await request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  expect(revoked.status()).toBe(401);
  expect(await revoked.json()).toEqual({ error: { code: "unauthorized", message: "This API token is not valid, or was revoked" } });
});
