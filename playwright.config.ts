import { defineConfig, devices } from "@playwright/test";
import { systemChromiumLaunchOptions } from "./e2e/system-chromium";

export default defineConfig({
  testDir: "e2e",
  // scripts/test.ts starts the web and worker and passes their address.
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3000",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  workers: 1,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: systemChromiumLaunchOptions(),
      },
    },
  ],
});
