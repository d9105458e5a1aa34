/**
 * `tactful demo` as a newcomer meets it: every flag is checked before anything is wiped; the pipeline's
 * numbers add up; every command it prints runs as printed; and the dashboard it keeps up opens from one
 * single-use link, knows the Mailchimp sandbox, shows the campaign's emails as the sandbox rendered them,
 * leaves people for a dry run, and draws every chart from the same numbers as the CLI reports.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../../packages/app/src/cli/capture.js';
import type { CliIo } from '../../packages/app/src/cli/io.js';
import { runCli } from '../../packages/app/src/cli/program.js';
import { collectPageErrors, releaseChromium, sharedChromium, sidewaysOverflow } from '../support/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'tactful-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const small = ['--customers', '60', '--orders', '900'];

/** The folder's entries, so a refused run can be shown to have changed nothing. */
const listing = (folder: string) => (existsSync(folder) ? readdirSync(folder).sort() : null);

describe('tactful demo: every flag is checked before anything is touched', () => {
  const kept = join(dir, 'kept');
  beforeAll(() => {
    mkdirSync(kept, { recursive: true });
    writeFileSync(join(kept, 'precious.txt'), 'not the demo');
  });

  const cases: Array<{ name: string; args: string[]; says: RegExp }> = [
    { name: 'customers that are not a number', args: ['--customers', 'zero'], says: /--customers "zero"/ },
    { name: 'orders that are not a number', args: ['--orders', '-3'], says: /--orders "-3"/ },
    { name: 'a port that is not one', args: ['--port', '70000'], says: /--port "70000" is not a port number/ },
    { name: 'a PostgreSQL --db', args: ['--db', 'postgres://u@h/db'], says: /runs only on an embedded folder/ },
    { name: 'an in-memory --db', args: ['--db', 'memory://'], says: /runs only on an embedded folder/ },
    {
      name: '--db and --data naming two folders',
      args: ['--db', join(dir, 'a'), '--data', join(dir, 'b')],
      says: /name two different folders/,
    },
  ];
  it.each(cases)('$name: exit 2, one line, the demo folder untouched', async ({ args, says }) => {
    const globals = args[0] === '--db' ? args.slice(0, 2) : [];
    const rest = args[0] === '--db' ? args.slice(2) : args;
    const data = rest.includes('--data') ? [] : ['--data', kept];
    const r = await runCaptured([...globals, 'demo', ...data, ...rest, '--no-serve']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(says);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(listing(kept)).toEqual(['precious.txt']);
  });

  it('a folder the demo did not make is never wiped', async () => {
    const r = await runCaptured(['--db', kept, 'demo', ...small, '--no-serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds data the demo did not create/);
    expect(listing(kept)).toEqual(['precious.txt']);
  });

  it('a port already in use is refused before the pipeline, with what to do', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const port = String((blocker.address() as { port: number }).port);
    try {
      const folder = join(dir, 'busy');
      const r = await runCaptured(['demo', '--data', folder, ...small, '--port', port]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--port ${port}: another program already listens there; pick another`));
      expect(existsSync(folder)).toBe(false);
    } finally {
      blocker.close();
    }
  });
});

describe('tactful demo --no-serve: numbers that add up, and commands that run as printed', () => {
  const folder = join(dir, 'plain');
  let out = '';
  beforeAll(async () => {
    const r = await runCaptured(['--db', folder, 'demo', ...small, '--no-serve']);
    expect(r.code, r.stderr).toBe(0);
    out = r.stdout;
  }, 600_000);

  it("the dry run's table accounts for every customer of the shop", () => {
    const block = out.split("The campaign's dry run, for every one of the 60 customers:")[1]!;
    const rows = [...block.matchAll(/^ {2}(would get it|not sent: [^\n]*?|already got it)\s{2,}(\d+)$/gm)];
    const total = /^ {2}total\s+(\d+)$/m.exec(block)?.[1];
    expect(rows.length).toBeGreaterThan(2);
    expect(rows.some((r) => r[1] === 'not sent: no consent on record')).toBe(true);
    expect(rows.reduce((sum, r) => sum + Number(r[2]), 0)).toBe(60);
    expect(total).toBe('60');
  });

  it('amounts carry the currency, titles no stray spaces, the one-click unsubscribe is named', () => {
    expect(out).toMatch(/\(\$\d+\.\d\d\): https:/);
    expect(out).toMatch(/→ \d+ orders?, \$\d+\.\d\d attributed/);
    expect(out).not.toMatch(/ ,/);
    expect(out).toMatch(/tactful\/one-click unsubscribe/);
  });

  it('every command the demo prints runs exactly as printed from the repository root', async () => {
    const commands = [...out.matchAll(/^ {2}npx tactful (.+)$/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const command of commands) {
      const r = await runCaptured(command.split(' '));
      expect(r.code, `${command}: ${r.stderr}`).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }
  }, 300_000);
});

/** Text of an HTML attribute or element, as the browser reads it. */
const htmlText = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&');

/** The JSON of a page's `#chart-data` block. */
function chartsOf(
  page: string,
): Record<string, { labels: string[]; datasets: Array<{ label: string; data: number[] }> }> {
  const json = /<script type="application\/json" id="chart-data">(.*?)<\/script>/s.exec(page)?.[1];
  expect(json, 'the page has chart data').toBeDefined();
  return JSON.parse(json!);
}

describe('tactful demo: the dashboard stays up behind a one-time sign-in link', () => {
  const folder = join(dir, 'served');
  let stdout = '';
  let stop!: () => void;
  let finished!: Promise<number>;
  const pages: Record<string, string> = {};
  let link = '';
  let base = '';
  let cookie = '';

  beforeAll(async () => {
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const io: CliIo = {
      stdout: (s) => {
        stdout += s;
      },
      stderr: () => undefined,
      env: {},
      cwd: process.cwd(),
      isTTY: false,
      untilStopped: () => stopped,
    };
    finished = runCli(['--db', folder, 'demo', ...small, '--port', '0'], io);
    for (let i = 0; i < 1200 && !/sign-in\?token=/.test(stdout); i++) await new Promise((r) => setTimeout(r, 250));
    link = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/admin\/sign-in\?token=\S+)$/m.exec(stdout)?.[1] ?? '';
    expect(link, stdout).not.toBe('');
    base = new URL(link).origin;
  }, 600_000);

  afterAll(async () => {
    stop?.();
    await finished;
  });

  it('the printed link signs in once: a session cookie and the dashboard; a second open is refused', async () => {
    const first = await fetch(link, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/admin');
    cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^tactful_admin=/);
    const admin = await fetch(`${base}/admin`, { headers: { cookie } });
    expect(admin.status).toBe(200);
    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status).toBe(410);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toMatch(/Press Enter in the terminal/);
    expect((await fetch(`${base}/admin`, { redirect: 'manual' })).status).toBe(401);
  });

  it("the Campaign page knows the demo's Mailchimp sandbox, and its dry run leaves people to send to", async () => {
    const campaign = await (await fetch(`${base}/admin/campaign`, { headers: { cookie } })).text();
    expect(campaign).not.toMatch(/No email provider is connected/);
    expect(campaign).toMatch(/through mailchimp/);
    const dry = await (await fetch(`${base}/admin/campaign?dry=1`, { headers: { cookie } })).text();
    const eligible = Number(/Would get it now<\/td><td[^>]*class="num"[^>]*>(\d+)</.exec(dry)?.[1]);
    expect(eligible).toBeGreaterThan(0);
    expect(dry).toMatch(/frequency cap reached/);
  });

  it('the demo inbox shows the campaign emails as the sandbox rendered them: HTML, images, prices', async () => {
    const inbox = await (await fetch(`${base}/demo/mail`)).text();
    const sent = Number(/the campaign's (\d+) emails/.exec(stdout)?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(inbox.match(/<iframe class="mail-html"/g)?.length).toBe(sent);
    const srcdoc = htmlText(/srcdoc="([^"]*)"/.exec(inbox)![1]!);
    expect(srcdoc).toMatch(/\$\d+\.\d\d/);
    expect(srcdoc).not.toMatch(/\*\|/);
    const image = htmlText(/<img src="([^"]+)"/.exec(srcdoc)![1]!);
    expect(image.startsWith(`${base}/demo/product-image.svg?title=`)).toBe(true);
    const picture = await fetch(image);
    expect(picture.status).toBe(200);
    expect(picture.headers.get('content-type')).toMatch(/image\/svg\+xml/);
  });

  it('the dashboard and Segments pages carry their chart data', async () => {
    for (const path of ['/admin', '/admin/segments'])
      pages[path] = await (await fetch(`${base}${path}`, { headers: { cookie } })).text();
  });

  it('on a phone (390 px) and a desk (1280 px) every admin page, the inbox and the preference centre fit without sideways scrolling, and the emails show their pictures', async () => {
    const inbox = await (await fetch(`${base}/demo/mail`)).text();
    const email = htmlText(/srcdoc="([^"]*)"/.exec(inbox)![1]!);
    const preferences = htmlText(/href="([^"]*\/preferences\?token=[^"]+)"/.exec(email)![1]!);
    const browser = await sharedChromium();
    try {
      const context = await browser.newContext();
      const split = cookie.indexOf('=');
      await context.addCookies([{ name: cookie.slice(0, split), value: cookie.slice(split + 1), url: base }]);
      const page = await context.newPage();
      const errors: string[] = [];
      collectPageErrors(page, errors);
      await page.goto(`${base}/admin`);
      const nav = (await page.$$eval('header.top a', (links) => links.map((a) => a.getAttribute('href') ?? ''))).map(
        (href) => new URL(href, base).href,
      );
      expect(nav.length).toBeGreaterThan(4);
      expect(await sidewaysOverflow(page, [...nav, `${base}/demo/mail`, preferences])).toEqual([]);
      await page.goto(`${base}/demo/mail`);
      const frame = page.frames().find((f) => f !== page.mainFrame())!;
      await frame.waitForLoadState('load');
      const pictures = await frame.$$eval('img', (images) =>
        images.map((i) => ({
          src: i.getAttribute('src'),
          shown: (i as unknown as { naturalWidth: number }).naturalWidth > 0,
        })),
      );
      expect(pictures.length).toBeGreaterThan(0);
      expect(pictures.filter((p) => !p.shown)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await releaseChromium(browser);
    }
  });

  // While the dashboard still runs (the link's page is the sandbox's; the stored campaign figures the charts
  // are compared with below are not refreshed from the sandbox afterwards).
  it("an email's Unsubscribe link opens the Mailchimp sandbox's own page, offline, and unsubscribes the recipient", async () => {
    const inbox = await (await fetch(`${base}/demo/mail`)).text();
    const to = /data-to="([^"]+)"/.exec(inbox)![1]!;
    const email = htmlText(/srcdoc="([^"]*)"/.exec(inbox)![1]!);
    const link = htmlText(/<a href="([^"]+)">Unsubscribe<\/a>/.exec(email)![1]!);
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?/);
    const ask = await fetch(link);
    expect(ask.status).toBe(200);
    expect(await ask.text()).toContain(to);
    const done = await fetch(`${new URL(link).origin}/unsubscribe/post`, {
      method: 'POST',
      body: new URL(link).searchParams,
    });
    expect(await done.text()).toContain('Unsubscribe successful');
    expect(await (await fetch(link)).text()).toContain('Already unsubscribed');
  });

  it('while it runs it names the commands that need it stopped, then stops cleanly and closes the database', async () => {
    expect(stdout).toMatch(/need the dashboard stopped first \(Ctrl-C\)/);
    stop();
    expect(await finished).toBe(0);
    expect(stdout).toMatch(/Stopped: the dashboard is closed and the demo database saved and closed\./);
    await expect(fetch(`${base}/admin`)).rejects.toThrow();
  });

  it('every chart shows the numbers of the CLI report that computes the same thing', async () => {
    expect(Object.keys(pages)).toHaveLength(2);
    const segments = chartsOf(pages['/admin/segments']!);
    const dashboard = chartsOf(pages['/admin']!);
    const cli = async (...args: string[]) => {
      const r = await runCaptured(['--db', folder, ...args, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };

    const pareto = await cli('report', 'pareto');
    const points = segments.pareto!;
    expect(points.labels.at(-1)).toBe(String(pareto.top));
    for (const [i, rank] of points.labels.entries())
      expect(points.datasets[0]!.data[i]).toBe(
        Math.round(pareto.members[Number(rank) - 1].cumulativeShare * 1000) / 10,
      );
    const shares = points.datasets[0]!.data;
    expect(shares).toEqual([...shares].sort((a, b) => a - b));
    expect(shares.at(-1)).toBeGreaterThanOrEqual(80);

    const rfm = await cli('report', 'rfm');
    expect(segments.rfm!.labels).toEqual(rfm.labels.map((l: { label: string }) => l.label.replace(/_/g, ' ')));
    expect(segments.rfm!.datasets[0]!.data).toEqual(rfm.labels.map((l: { customers: number }) => l.customers));

    const stats = (await cli('campaign', 'report')) as Array<Record<string, number | string>>;
    const chart = dashboard.campaigns!;
    expect(chart.labels).toEqual(stats.map((s) => s.name));
    const series = (label: string) => chart.datasets.find((d) => d.label === label)!.data;
    expect(series('Sent')).toEqual(stats.map((s) => s.sends));
    expect(series('Opened')).toEqual(stats.map((s) => s.opens));
    expect(series('Clicked')).toEqual(stats.map((s) => s.clicks));
    expect(series('Unsubscribed')).toEqual(stats.map((s) => s.unsubscribes));
    const revenue = dashboard.revenue!.datasets[0]!.data.reduce((a, b) => a + b, 0);
    expect(revenue).toBeCloseTo(
      stats.reduce((a, s) => a + Number(s.revenue), 0),
      2,
    );
  });
});

describe('npx tactful works on a fresh clone, and says its version', () => {
  it('the bin is a file in the repository (npm links it at install, before dist/ is built) and it runs', async () => {
    const { execFileSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync('packages/app/package.json', 'utf8'));
    const bin = pkg.bin.tactful.replace(/^\.\//, '');
    expect(bin.startsWith('dist/')).toBe(false);
    expect(pkg.files).toContain(bin.split('/')[0]);
    expect(execFileSync('git', ['ls-files', '--error-unmatch', `packages/app/${bin}`], { encoding: 'utf8' })).toBe(
      `packages/app/${bin}\n`,
    );
    const r = await runCaptured(['--version']);
    expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });
});
