/**
 * A real browser for the console's tests: Debian's Chromium (`apt-get install chromium`;
 * `.ci/run` installs it when missing), driven by playwright-core. Never a downloaded
 * browser build. A missing Chromium fails the test loudly, it never skips.
 */
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { repoPath } from "../helpers.ts";

/** Where Chromium is: `CHROMIUM_PATH`, else Debian's. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where the screenshots go (gitignored): `.artifacts/console/`. */
export const SHOTS_DIR = repoPath(".artifacts", "console");

/** Starts headless Chromium. @throws when it is not installed, saying how to install it. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** Saves a full-page screenshot as `.artifacts/console/<name>.png`. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: `${SHOTS_DIR}/${name}.png`, fullPage: true });
}
