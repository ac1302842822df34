import { expect, test } from "@playwright/test";
import { assertLocalDatabase } from "./assert-local-database";
import { AuthPage, ConfigurationPage, uniqueEmail } from "./pages/app";

assertLocalDatabase(process.env.E2E_DATABASE_URL);

// The schedule uses the browser's time zone, not the server's.
test.use({ timezoneId: "Europe/Paris" });

test("schedule a configuration to render again every day, in my time zone", async ({ page }) => {
  await new AuthPage(page).signUp(uniqueEmail("schedules"));
  await new ConfigurationPage(page).create({ Name: "Morning", Width: "64", Height: "64" });
  const schedule = page.getByRole("region", { name: "Schedule" });
  await expect(schedule.getByText("Not scheduled.")).toBeVisible();
  await expect(schedule.getByText("Times are in Europe/Paris.")).toBeVisible();

  // A one-off in the past is refused with a message, and nothing is scheduled.
  await schedule.getByLabel("Repeat").selectOption("once");
  await schedule.getByLabel("Date").fill("2020-01-01");
  await schedule.getByLabel("Time").fill("07:30");
  await schedule.getByRole("button", { name: "Save schedule" }).click();
  await expect(schedule.getByText("That time has already passed")).toBeVisible();
  await expect(schedule.getByText("Not scheduled.")).toBeVisible();

  await schedule.getByLabel("Repeat").selectOption("daily");
  await schedule.getByLabel("Time").fill("07:30");
  await schedule.getByRole("button", { name: "Save schedule" }).click();
  await expect(schedule.getByTestId("schedule-summary")).toContainText("Every day at 07:30 (Europe/Paris)");
  // The next run, shown in Paris time, is at 07:30.
  await expect(schedule.getByTestId("schedule-summary")).toContainText(/Next run: .*7:30/);

  await schedule.getByRole("button", { name: "Remove schedule" }).click();
  await expect(schedule.getByText("Not scheduled.")).toBeVisible();
});
