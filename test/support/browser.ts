/**
 * What every browser test needs: a free loopback port for the app, Debian's chromium (which `.ci/run`
 * installs) driven by playwright-core, and page errors collected so a test fails on any script error, CSP
 * violation or failed load — except a 401, which the sign-in flows answer on purpose.
 */
import { createServer } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

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
