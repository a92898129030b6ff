// Debian's Chromium for the rendering tests, driven by playwright-core (which downloads no
// browser). `node test/browser/chromium.ts` installs it with apt-get when it is missing, so a
// clean machine (`.ci/run`, as root) needs nothing by hand: about 124 MB of packages, 414 MB
// installed, under a minute here. CHROMIUM_BIN points at another Chromium instead.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { executable } from '../env/ensure.ts';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';


export function ensureChromium(): string {
  if (executable(CHROMIUM)) return CHROMIUM;
  if (process.env.CHROMIUM_BIN) throw new Error(`CHROMIUM_BIN=${CHROMIUM} is not executable`);
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium, as root) or set CHROMIUM_BIN`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'chromium']]) {
    const run = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`})`);
  }
  if (!executable(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is not there`);
  return CHROMIUM;
}

/** A headless Chromium with a fresh profile (deleted on close), no network chatter of its own, no sandbox (root in CI). */
export async function launchChromium(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'ofi-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: ensureChromium(),
    headless: true,
    viewport: { width: 1100, height: 600 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // Chromium's last writes can land while the profile is being removed (ENOTEMPTY): retry, and a
  // profile left in the temp dir must not fail a test that has passed.
  context.on('close', () => {
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (error) {
      console.error(`chromium: could not remove the profile ${profile}: ${(error as Error).message}`);
    }
  });
  return context;
}

if (import.meta.main) {
  try {
    console.log(`chromium: ${ensureChromium()}`);
  } catch (error) {
    console.error(`chromium: ${(error as Error).message}`);
    process.exit(1);
  }
}
