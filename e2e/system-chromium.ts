import { existsSync } from "node:fs";
import type { LaunchOptions } from "@playwright/test";

/** Debian's Chromium, which npm test installs: Playwright cannot download its own browsers here. */
const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/**
 * How the e2e suite and bench:save launch it; Playwright's own browser where it is not installed.
 * Without the background-networking flags, a closed network refuses Chromium's own connections.
 */
export const systemChromiumLaunchOptions = (): LaunchOptions =>
  existsSync(SYSTEM_CHROMIUM)
    ? {
        executablePath: SYSTEM_CHROMIUM,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      }
    : {};
