/**
 * `npm run screenshots`: the README's screenshots, taken from the demo. Builds the demo exactly as `npm run demo`
 * does (its seeded Groceries shop, 2 000 customers, the Mailchimp sandbox connected) in a throwaway folder, signs in
 * through its one-time link in Debian's chromium (playwright-core, as the browser tests drive it), does what an
 * owner does on each page (a search, a segment by form, a product kept out of recommendations, the shop's brand, a
 * test email) and saves viewport-sized PNGs into docs/screenshots/. The demo's shop is seeded, so a run shows the
 * same pages as the last one, but for what follows the run itself: dates, the order of the customers list (by
 * random subject ids) and the post-purchase flow's simulated weeks. A page that scrolls sideways or reports a script
 * error stops the run. test/standalone/screenshots.test.ts checks that the README shows every PNG and nothing else.
 *
 * `npm run screenshots -- --link <sign-in link>` shoots a demo that is already up instead (and changes its data as
 * above: a product never recommended, one favoured, the brand, a test email).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { CliIo } from '../packages/app/src/cli/io.js';
import { runCli } from '../packages/app/src/cli/program.js';
import { collectPageErrors, launchChromium } from '../test/support/browser.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'docs/screenshots');
const DESK = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** The demo's story customer (demo/story.ts): her consent went pending → confirmed → withdrawn, and stayed so. */
const DANA = 'dana@example.com';
/** The shop's logo as the owner would host it; the browser is answered with this drawing (the demo is offline). */
const LOGO_URL = 'https://cdn.tactful-demo.example/logo.svg';
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1f6f50"/><path d="M18 40c4-14 24-20 30-14-6 2-10 8-12 14-3 8-14 9-18 0z" fill="#e9f5ee"/></svg>`;

/** Enough of the page's globals for the functions run inside it (this file is type-checked without the DOM's types). */
interface Browserish {
  document: {
    querySelector(s: string): { textContent: string | null } | null;
  };
  scrollBy(x: number, y: number): void;
}

/** Text of an HTML attribute, as the browser reads it. */
const htmlText = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&');

interface Demo {
  link: string;
  stop(): Promise<void>;
}

/** `tactful demo` in this process, on a throwaway folder, until `stop()`. */
async function startDemo(): Promise<Demo> {
  const folder = mkdtempSync(join(tmpdir(), 'tactful-screenshots-'));
  let stdout = '';
  let release!: () => void;
  const stopped = new Promise<void>((resolve) => {
    release = resolve;
  });
  const io: CliIo = {
    stdout: (s) => {
      stdout += s;
      process.stdout.write(s);
    },
    stderr: (s) => process.stderr.write(s),
    env: { TACTFUL_SECRET: process.env.TACTFUL_SECRET },
    cwd: root,
    isTTY: false,
    untilStopped: () => stopped,
  };
  const finished = runCli(['--db', join(folder, 'demo'), 'demo', '--port', '0'], io);
  const link = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const found = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/admin\/sign-in\?token=\S+)$/m.exec(stdout)?.[1];
      if (found) {
        clearInterval(timer);
        resolve(found);
      }
    }, 250);
    finished.then((code) => {
      clearInterval(timer);
      reject(new Error(`the demo stopped (exit ${code}) before its dashboard was up`));
    }, reject);
  });
  return {
    link,
    stop: async () => {
      release();
      await finished;
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** Every shot is checked for sideways scrolling before it is saved: a picture of a broken page is refused. */
async function shot(page: Page, name: string): Promise<void> {
  const over = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
  if (over > 0) throw new Error(`${name}: ${page.url()} is ${over} px too wide at ${page.viewportSize()?.width} px`);
  await page.screenshot({ path: join(out, `${name}.png`) });
  process.stdout.write(`  docs/screenshots/${name}.png\n`);
}

/** Scrolls so that the first element `selector` (a Playwright selector) finds sits at the top of the window. */
async function scrollTo(page: Page, selector: string): Promise<void> {
  const element = page.locator(selector).first();
  await element.waitFor();
  const top = await element.evaluate(
    (e) => (e as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top,
  );
  await page.evaluate((y) => (globalThis as unknown as Browserish).scrollBy(0, y - 16), top);
}

async function shoot(link: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  for (const file of readdirSync(out)) if (file.endsWith('.png')) rmSync(join(out, file));
  const base = new URL(link).origin;
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: DESK, deviceScaleFactor: 1 });
    await context.route(LOGO_URL, (route) => route.fulfill({ contentType: 'image/svg+xml', body: LOGO }));
    const page = await context.newPage();
    const errors: string[] = [];
    collectPageErrors(page, errors);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

    // The dashboard: the setup checklist's verdict, the audience and the consent charts.
    await shot(page, 'dashboard');

    // Customers: a search by the filters an owner uses (consent per purpose, group), then one customer's story.
    await page.goto(`${base}/admin/customers`);
    await page.locator('#customer-search select[name="consent.email_marketing"]').selectOption('granted');
    await page.locator('#customer-search select[name="rfm"]').selectOption('champions');
    await page.locator('#customer-search button[type=submit]').click();
    await page.locator('#customers').waitFor();
    const customers = page.url();
    await shot(page, 'customers');

    await page.goto(`${base}/admin/customers`);
    await page.locator('#customer-search input[name=email]').fill(DANA);
    await page.locator('#customer-search button[type=submit]').click();
    await page.locator('#customers a', { hasText: DANA }).click();
    await page.locator('#consent-story').waitFor();
    const dana = page.url();
    await scrollTo(page, 'h1');
    await shot(page, 'customer-consent');

    // A segment by form: email offers granted, at least three orders, and ever bought chocolate or coffee, counted live.
    await page.goto(`${base}/admin/segments`);
    const builder = page.locator('#segment-builder');
    const count = page.locator('#segment-live [data-live-count]');
    await count.waitFor();
    await builder.locator('.seg-row[data-field="orderCount"] input').first().fill('3');
    await builder.getByRole('button', { name: '+ Group' }).first().click();
    const group = builder.locator('.seg-group[data-depth="1"]');
    for (const [i, category] of ['snacks and candies > chocolate', 'drinks > coffee'].entries()) {
      if (i > 0) await group.getByRole('button', { name: '+ Condition' }).click();
      const row = group.locator('.seg-row').nth(i);
      await row.locator('select[aria-label="Field"]').selectOption('purchasedCategory');
      await row.locator('select[aria-label="Value"]').selectOption(category);
    }
    await liveCountOf(page, await page.locator('#segment-json').inputValue());
    await scrollTo(page, '#build-title');
    await shot(page, 'segment-builder');

    // Connections: Mailchimp (the demo's sandbox audience), Shopify, and the checklist.
    await page.goto(`${base}/admin/connections`);
    await shot(page, 'connections');

    // The explorer in the owner's words: what goes with coffee, with pictures, prices and the statistics a click away.
    await page.goto(`${base}/admin/recommendations`);
    const id = async (title: string) =>
      (await page
        .locator('select[name=product] option', { hasText: new RegExp(`^${title} \\(\\d+ orders\\)$`) })
        .getAttribute('value')) ?? title;
    const [coffee, bags, chocolate] = [await id('coffee'), await id('shopping bags'), await id('chocolate')];
    await page.locator('select[name=product]').selectOption(coffee);
    await page.getByRole('button', { name: 'Show related products' }).click();
    const related = page.locator('section[aria-labelledby="related-title"]');
    await related.locator('details.stats summary').first().click();
    await scrollTo(page, 'section[aria-labelledby="related-title"]');
    await shot(page, 'recommendations');

    // Merchandising: shopping bags never recommended (the explorer's own button), chocolate favoured.
    await related
      .locator(`li.product-line[data-product="${bags}"]`)
      .getByRole('button', { name: 'Never recommend' })
      .click();
    await page.getByText('shopping bags is never recommended now.').waitFor();
    await page.locator('#merchandising input[name=find]').fill('chocolate');
    await page.locator('#merchandising').getByRole('button', { name: 'Search' }).click();
    await page
      .locator(`#merchandising li.product-line[data-product="${chocolate}"]`)
      .getByRole('button', { name: 'Favour' })
      .click();
    await page.getByText('chocolate is favoured now').waitFor();
    await scrollTo(page, '#merchandising');
    await shot(page, 'merchandising');

    // The post-purchase flow and what its holdout shows.
    await page.goto(`${base}/admin/flows`);
    await scrollTo(page, 'h2:text("Recipients against the holdout")');
    await shot(page, 'flows');

    // A test email for the campaign's first recipient, to the owner's own address (the demo inbox).
    const inbox = await (await fetch(`${base}/demo/mail`)).text();
    const first = /data-to="([^"]+)"/.exec(inbox)?.[1] ?? '';
    await page.goto(`${base}/admin/customers?email=${encodeURIComponent(first)}`);
    await page.locator('#customers a').first().click();
    await page.getByRole('button', { name: 'Send me a test' }).click();
    await page.locator('.notice.ok').waitFor();
    await scrollTo(page, 'h1');
    await shot(page, 'test-send');

    // The shop's brand, set in Settings, on the customer's own preference centre (the link of their email).
    await page.goto(`${base}/admin/settings`);
    await page.locator('input[name=brandName]').fill('Green Basket Groceries');
    await page.locator('input[name=accentColor]').fill('#1f6f50');
    await page.locator('input[name=logoUrl]').fill(LOGO_URL);
    await page.locator('form[action="/admin/brand"] button[type=submit]').click();
    await page.getByText('Saved.').waitFor();
    const email = htmlText(/srcdoc="([^"]*)"/.exec(inbox)?.[1] ?? '');
    const preferences = htmlText(/href="([^"]*\/preferences\?token=[^"]+)"/.exec(email)?.[1] ?? '');
    await page.goto(preferences);
    await shot(page, 'preference-centre');

    // On a phone: the preference centre, Dana's story and the customers list, their tables as stacked rows.
    await page.setViewportSize(PHONE);
    await page.goto(preferences);
    await shot(page, 'phone-preference-centre');
    await page.goto(dana);
    await scrollTo(page, '#consent');
    await shot(page, 'phone-customer');
    await page.goto(customers);
    await shot(page, 'phone-customers');

    failOnPageErrors(errors);
  } finally {
    await browser.close();
  }
}

/** Waits until the builder's live count shows the count of `definition` (asked of the same preview here). */
async function liveCountOf(page: Page, definition: string): Promise<void> {
  const expected = await page.evaluate(async (d) => {
    const answer = await fetch(`/admin/segments/preview.json?definition=${encodeURIComponent(d)}`);
    return String(((await answer.json()) as { count: number }).count);
  }, definition);
  const shown = (n: string) => {
    const d = (globalThis as unknown as Browserish).document;
    return (
      d.querySelector('#segment-live[aria-busy]') === null &&
      d.querySelector('#segment-live [data-live-count]')?.textContent === n
    );
  };
  await page.waitForFunction(shown, expected);
  // The builder asks 350 ms after the last change: once more after that, in case an earlier answer was shown.
  await page.waitForTimeout(700);
  await page.waitForFunction(shown, expected);
}

function failOnPageErrors(errors: string[]): void {
  if (errors.length > 0) throw new Error(`the pages reported errors:\n${errors.join('\n')}`);
}

const given = process.argv.indexOf('--link');
const link = given > 0 ? (process.argv[given + 1] ?? '') : null;
if (link !== null && !/^http:\/\/127\.0\.0\.1:\d+\/admin\/sign-in\?token=\S+$/.test(link)) {
  process.stderr.write(
    `--link "${link}" is not the demo's sign-in link: pass the http://127.0.0.1:<port>/admin/sign-in?token=… line it printed (Enter prints a new one).\n`,
  );
  process.exit(2);
}
const started = Date.now();
const demo = link === null ? await startDemo() : null;
try {
  process.stdout.write('\nShooting the pages into docs/screenshots/:\n');
  await shoot(link ?? demo!.link);
} finally {
  await demo?.stop();
}
const bytes = readdirSync(out).reduce((sum, file) => sum + statSync(join(out, file)).size, 0);
process.stdout.write(
  `\n${readdirSync(out).length} screenshots, ${(bytes / 1024).toFixed(0)} KB in all, in ${((Date.now() - started) / 1000).toFixed(0)} s.\n`,
);
