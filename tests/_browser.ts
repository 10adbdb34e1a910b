/**
 * Test helper: launches Debian's Chromium through playwright-core with the flags this machine
 * needs (no sandbox as root, no background networking on a closed network).
 *
 * @module
 */
import fs from "node:fs";
import type { Browser } from "playwright-core";

/** Where Debian's chromium package installs the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** True when Chromium is installed; otherwise browser tests skip (and say why). */
export const hasChromium: boolean = (() => {
  try {
    Deno.statSync(CHROMIUM);
    return true;
  } catch {
    console.warn(`SKIP browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);
    return false;
  }
})();

/** Launches a headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  // playwright-core probes /proc/sys/fs/binfmt_misc/WSLInterop when it loads to detect WSL;
  // Deno lets only --allow-all read /proc/sys, and the test task grants explicit permissions.
  // We are not on WSL, so answer that probe ourselves and leave every other path alone.
  const existsSync = fs.existsSync;
  fs.existsSync = (path: fs.PathLike) =>
    String(path).startsWith("/proc/sys/fs/binfmt_misc/") ? false : existsSync(path);
  const { chromium } = await import("playwright-core");
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
