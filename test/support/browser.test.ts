/**
 * The sideways-scrolling sweep the browser tests rely on (`sidewaysOverflow`) loads each page once, at the phone's
 * width, and measures the desk's width after a resize: it must still see a page that is too wide only at one of
 * the two widths, whether CSS or a script (a resize observer redrawing a chart on the next frame) makes it so.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseChromium, sharedChromium, sidewaysOverflow } from './browser.js';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await sharedChromium();
  page = await browser.newPage();
});
afterAll(() => releaseChromium(browser));

const html = (body: string) => `data:text/html,${encodeURIComponent(`<!doctype html><body style="margin:0">${body}`)}`;

describe('sidewaysOverflow', () => {
  it('passes pages that fit at both widths', async () => {
    expect(await sidewaysOverflow(page, [html('<p>short</p>'), html('<div style="max-width:100%">x</div>')])).toEqual(
      [],
    );
  });

  it('finds a page too wide at either width, once loaded and once resized', async () => {
    const everywhere = await sidewaysOverflow(page, [html('<div style="width:1400px">wide</div>')]);
    expect(everywhere).toHaveLength(2);
    expect(everywhere[0]).toMatch(/is 1010 px too wide at 390 px$/);
    expect(everywhere[1]).toMatch(/is 120 px too wide at 1280 px$/);

    const phoneOnly = await sidewaysOverflow(page, [
      html('<style>div{width:500px}@media (min-width:600px){div{width:auto}}</style><div>x</div>'),
    ]);
    expect(phoneOnly).toEqual([expect.stringMatching(/is 110 px too wide at 390 px$/)]);

    const deskOnly = await sidewaysOverflow(page, [
      html('<style>div{width:auto}@media (min-width:1000px){div{width:1300px}}</style><div>x</div>'),
    ]);
    expect(deskOnly).toEqual([expect.stringMatching(/is 20 px too wide at 1280 px$/)]);
  });

  it('waits for what a resize observer draws on the next frame, as a chart does', async () => {
    const chart = `<div id="box">chart</div><script>
      new ResizeObserver(() => requestAnimationFrame(() => {
        document.getElementById('box').style.width = innerWidth > 1000 ? '1290px' : '100px';
      })).observe(document.documentElement);
    </script>`;
    expect(await sidewaysOverflow(page, [html(chart)])).toEqual([
      expect.stringMatching(/is 10 px too wide at 1280 px$/),
    ]);
  });
});
