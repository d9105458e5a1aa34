import { chromium } from 'playwright-core';
const [link, width = '1280', out = '/tmp/dc-shots'] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
await page.goto(link);
const base = new URL(link).origin;
for (const path of ['/admin', '/admin/audit?email=dana%40example.com', '/admin/segments', '/admin/recommendations', '/admin/campaign', '/admin/campaign?dry=1', '/admin/data-requests', '/admin/settings', '/demo/mail']) {
  await page.goto(base + path);
  await page.waitForTimeout(800);
  const name = path.replace(/[^a-z0-9]+/gi, '_');
  await page.screenshot({ path: `${out}/${width}${name}.png`, fullPage: true });
  console.log(path, page.url(), (await page.title()));
}
console.log('errors', errors);
await browser.close();
