// Usage: node docs/screenshot.mjs <base url> <out.png>  (run through docs/screenshot.sh, which starts the API)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [base, out] = process.argv.slice(2);
if (!base || !out) throw new Error('usage: node docs/screenshot.mjs <base url> <out.png>');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const core = path.join(root, 'Downloads.Tests/bin/Debug/net10.0/.playwright/package/index.mjs');
const { chromium } = await import(pathToFileURL(core).href);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, colorScheme: 'light' });
  page.setDefaultTimeout(30_000);
  await page.goto(base);

  const start = async (ids) => {
    await page.getByTestId('file-ids-input').fill(ids);
    await page.getByTestId('start-button').click();
  };
  const newest = page.getByTestId('job-card').first();

  // First job: finished, with download links.
  await start('70000, 70007, 70001');
  await page.locator('[data-testid="job-card"][data-status="completed"]').waitFor();

  // Second job: caught running, with completed, processing and pending rows.
  await start('70014, 70021, 70028, 70035, 70042, 70049');
  await page.getByTestId('job-card').nth(1).waitFor();
  await newest.locator('[data-testid="file-row"][data-status="completed"]').first().waitFor();
  await newest.locator('[data-testid="file-row"][data-status="processing"]').first().waitFor();

  await page.screenshot({ path: out });
} finally {
  await browser.close();
}
