import { expect, type Page } from "@playwright/test";
import { randomBytes } from "node:crypto";
import postgres from "postgres";

/** Promotes an account directly in the e2e database (there is no UI for it; admins use `npm run admin`). */
export async function makeAdmin(email: string) {
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1 });
  await sql`update users set role = 'admin' where email = ${email}`;
  await sql.end();
}

export const uniqueEmail = (label: string) => `${label}-${randomBytes(4).toString("hex")}@example.test`;
export const PASSWORD = "correct horse battery";

export class AuthPage {
  constructor(readonly page: Page) {}

  async signUp(email: string, password = PASSWORD) {
    await this.page.goto("/sign-up");
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByRole("button", { name: "Sign up" }).click();
    await expect(this.page).toHaveURL(/\/configurations$/);
  }

  async signIn(email: string, password = PASSWORD) {
    await this.page.goto("/sign-in");
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByRole("button", { name: "Sign in" }).click();
  }
}

export type ConfigurationValues = Partial<
  Record<"Name" | "Real part" | "Imaginary part" | "Depth" | "Width" | "Height" | "Zoom" | "Center X" | "Center Y", string>
> & {
  Colormap?: string;
};

export class ConfigurationPage {
  constructor(readonly page: Page) {}

  get image() {
    return this.page.getByTestId("render-image");
  }
  get progressBar() {
    return this.page.getByRole("progressbar", { name: "Render progress" });
  }
  get staleNotice() {
    return this.page.getByText("Showing the previous settings");
  }
  get statusBadge() {
    return this.page.getByTestId("status-badge");
  }

  async fill(values: ConfigurationValues) {
    for (const [label, value] of Object.entries(values)) {
      if (label === "Colormap") await this.page.getByLabel("Colormap").selectOption(value);
      else await this.page.getByLabel(label, { exact: true }).fill(value);
    }
  }

  async create(values: ConfigurationValues) {
    await this.page.goto("/configurations");
    await this.page.getByRole("link", { name: "New configuration" }).first().click();
    await this.fill(values);
    await this.page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(this.page).toHaveURL(/\/configurations\/[0-9a-f-]{36}$/);
    return this.page.url();
  }

  async save(values: ConfigurationValues) {
    await this.fill(values);
    await this.page.getByRole("button", { name: "Save", exact: true }).click();
  }

  async waitForFreshPicture() {
    await expect(this.image).toHaveAttribute("data-stale", "false", { timeout: 60_000 });
    await expect(this.statusBadge).toHaveText("Done");
  }
}

/** Signs up a new account and creates an API token on the Tokens page, as a person would. */
export async function signUpWithToken(page: Page, label: string) {
  const email = uniqueEmail(label);
  await new AuthPage(page).signUp(email);
  await page.goto("/tokens");
  await page.getByLabel("Token name").fill(`${label} token`);
  await page.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("new-token").textContent())!;
  return { email, token };
}
