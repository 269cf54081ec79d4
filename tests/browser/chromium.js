// chromium.js - launches Debian's Chromium headless through playwright-core, with the flags
// this closed-network machine needs (docs/TOOLCHAIN.md): no background networking, no sandbox as
// root, a fresh profile.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => fs.existsSync(p));

export async function launchChromium() {
  if (!CHROMIUM) throw new Error('Chromium not found: apt-get install chromium (scripts/setup.sh does)');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wembed-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
