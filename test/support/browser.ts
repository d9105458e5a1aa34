/**
 * What every browser test needs: a free loopback port for the app, Debian's chromium (which `.ci/run`
 * installs) driven by playwright-core, and page errors collected so a test fails on any script error, CSP
 * violation or failed load — except a 401, which the sign-in flows answer on purpose.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { beforeEach } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

let shared: Promise<Browser> | undefined;

/**
 * One chromium per test worker, for the browser files it runs one after another: a launch and a close cost about
 * 1.8 CPU-seconds, and the suite has eight such files. A file gives it back with `releaseChromium` in its afterAll,
 * which closes every page and context it opened, so the next file starts from a browser without any. A browser
 * that crashed or was closed is launched again. Playwright ends the browser when the worker process exits.
 */
export async function sharedChromium(): Promise<Browser> {
  const current = await shared?.catch(() => undefined);
  if (current?.isConnected()) return current;
  shared = launchChromium();
  return shared;
}

/** Closes what a file opened in the shared browser (see `sharedChromium`); the browser stays for the next file. */
export async function releaseChromium(browser: Browser | undefined): Promise<void> {
  if (!browser?.isConnected()) return;
  await Promise.all(browser.contexts().map((context) => context.close()));
}

/** Pushes every page error and console error (but a 401 answer) of `page` into `errors`. */
export function collectPageErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text());
  });
}

/** The widths every page must fit without scrolling sideways: a phone's and a desk's. */
export const WIDTHS = [390, 1280] as const;

/**
 * Which of `urls` scroll sideways at the phone's or the desk's width, as lines (`/path is N px too wide at W px`),
 * none when all fit. Each page is loaded once, at the phone's width, as a phone loads it, then measured at each
 * width (`sidewaysOverflowHere`). A load costs the app a render and chromium a parse, layout and script run; the
 * sweeps measured two widths with a load each. `atPhone` runs right after each load (a screenshot, a check of
 * the page as a phone sees it).
 */
export async function sidewaysOverflow(
  page: Page,
  urls: readonly string[],
  atPhone?: (url: string) => Promise<void>,
): Promise<string[]> {
  const wide: string[] = [];
  for (const url of urls) {
    await page.setViewportSize({ width: WIDTHS[0], height: 860 });
    await page.goto(url);
    await atPhone?.(url);
    for (const line of await sidewaysOverflowHere(page)) wide.push(line);
  }
  return wide;
}

/**
 * The page as it is, measured at each width: the window resized, then three animation frames later, when media
 * queries, layout, resize observers and what they schedule for the next frame (the charts' redraw) have followed
 * the resize. Lines as `sidewaysOverflow` gives them.
 */
export async function sidewaysOverflowHere(page: Page): Promise<string[]> {
  const wide: string[] = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 860 });
    await page.evaluate(settled);
    const over = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    if (over > 0) {
      const { pathname, search } = new URL(page.url());
      wide.push(`${pathname}${search} is ${over} px too wide at ${width} px`);
    }
  }
  return wide;
}

/** Resolves after three animation frames: what a resize set off (layout, resize observers, their redraws) has run. */
const settled = () =>
  new Promise<void>((resolve) => {
    const window = globalThis as unknown as { requestAnimationFrame(f: () => void): void };
    const after = (frames: number) => window.requestAnimationFrame(() => (frames > 1 ? after(frames - 1) : resolve()));
    after(3);
  });

/** Where browser tests put their screenshots (git ignores it). */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/**
 * A browser file's screenshots, in test-artifacts/: the page a failed test left, always (named after the test),
 * and the walk's named steps (`shot(name)`) when `TACTFUL_TEST_SCREENSHOTS=1`. A full-page screenshot costs
 * ~0.35 CPU-second of chromium on the two-core machine kind, and the walks take thirty; nothing asserts on them,
 * they are for a person to look at (`npm run screenshots` makes the README's).
 */
export function screenshots(currentPage: () => Page | undefined): (name: string) => Promise<void> {
  const save = async (name: string) => {
    const page = currentPage();
    if (!page || page.isClosed()) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  };
  beforeEach(({ onTestFailed, task }) => {
    onTestFailed(async () => {
      const name = task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
      await save(`failed-${name}`).catch(() => undefined);
    });
  });
  return async (name) => {
    if (process.env.TACTFUL_TEST_SCREENSHOTS === '1') await save(name);
  };
}
