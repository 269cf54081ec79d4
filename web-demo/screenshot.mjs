// screenshot.mjs - makes web-demo/screenshot.png (the README's picture) by driving the demo in
// headless Chromium with the bundled text model: sample documents indexed, a query, binary
// codes and 16 Matryoshka dims on.   node web-demo/screenshot.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../scripts/serve.mjs';
import { launchChromium } from '../tests/browser/chromium.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = await startServer({ root, isolated: true });
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 1310 });
  await page.goto(`${server.url}/web-demo/`);
  await page.waitForSelector('body[data-ready=true]');
  await page.click('#text-load');
  await page.waitForSelector('#text-model-facts[data-ready]');
  await page.click('#text-samples');
  await page.waitForFunction(() => !document.getElementById('text-index').disabled);
  await page.click('#text-index');
  await page.waitForFunction(() => Number(document.getElementById('text-index-status').dataset.count) > 0);
  await page.click('label:has(#text-binary)');
  await page.waitForFunction(() => document.getElementById('text-index-status').textContent.includes('binary'));
  await page.selectOption('#text-dims', '16');
  await page.waitForFunction(() => / 16 dims /.test(document.getElementById('text-index-status').textContent));
  await page.waitForSelector('[data-testid=text-size-gain]');
  await page.fill('#text-query', 'how do volcanoes erupt');
  await page.waitForFunction(() => document.getElementById('text-results').dataset.query === 'how do volcanoes erupt');
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(root, 'web-demo/screenshot.png') });
  console.log('wrote web-demo/screenshot.png');
} finally {
  await browser.close();
  await server.close();
}
