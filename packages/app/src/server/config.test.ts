import { describe, expect, it } from 'vitest';
import { isTactfulError } from '@tactful/core';
import { runCaptured } from '../cli/capture.js';
import type { CliIo } from '../cli/io.js';
import { runCli } from '../cli/program.js';
import { readServeConfig } from './config.js';

const token = 'a-long-enough-admin-token-123456';

describe('serveConfig', () => {
  it('defaults: port 3000 on 127.0.0.1, embedded database, public URL from host and port', () => {
    const c = readServeConfig({ TACTFUL_ADMIN_TOKEN: token });
    expect(c).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      TACTFUL_DB: '.tactful/db',
      TACTFUL_SHOP: 'demo.myshopify.com',
      TACTFUL_DEMO: false,
      PUBLIC_URL: 'http://127.0.0.1:3000',
      TACTFUL_RATE_LIMIT: 60,
    });
  });

  it('reports every problem at once with CONFIG.INVALID', () => {
    let caught: unknown;
    try {
      readServeConfig({
        PORT: 'eighty',
        TACTFUL_ADMIN_TOKEN: 'short',
        TACTFUL_DB: 'postgres://u@db/tactful',
        PUBLIC_URL: 'ftp://example.com',
        TACTFUL_DEMO: 'maybe',
        SHOPIFY_API_KEY: 'key',
        MAILCHIMP_WEBHOOK_SECRET: 'tiny',
      });
    } catch (error) {
      caught = error;
    }
    expect(isTactfulError(caught, 'CONFIG.INVALID')).toBe(true);
    const problems = (caught as { details: string[] }).details;
    const keys = problems.map((p) => p.split(':')[0]);
    expect(keys).toEqual(
      expect.arrayContaining([
        'PORT',
        'TACTFUL_ADMIN_TOKEN',
        'PUBLIC_URL',
        'TACTFUL_DEMO',
        'MAILCHIMP_WEBHOOK_SECRET',
        'TACTFUL_SECRET',
        'SHOPIFY_API_SECRET',
        'SHOPIFY_SCOPES',
      ]),
    );
    expect((caught as Error).message).toContain(`${problems.length} problems`);
  });

  it('a missing admin token says what to set', () => {
    expect(() => readServeConfig({})).toThrow(/TACTFUL_ADMIN_TOKEN: is required/);
  });

  it('checks the master secret format', () => {
    expect(() => readServeConfig({ TACTFUL_ADMIN_TOKEN: token, TACTFUL_SECRET: 'nothex' })).toThrow(
      /TACTFUL_SECRET: must be 32 random bytes/,
    );
    expect(readServeConfig({ TACTFUL_ADMIN_TOKEN: token, TACTFUL_SECRET: 'ab'.repeat(32) }).TACTFUL_SECRET).toBe(
      'ab'.repeat(32),
    );
  });
});

describe('tactful serve', () => {
  it('lists every configuration problem and exits 2 without starting', async () => {
    const { code, stderr } = await runCaptured(['--db', 'memory://', 'serve'], {
      PORT: '99999',
      TACTFUL_ADMIN_TOKEN: 'x',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('error CONFIG.INVALID');
    expect(stderr).toContain('PORT:');
    expect(stderr).toContain('TACTFUL_ADMIN_TOKEN:');
  });

  it('serves until SIGTERM, then closes cleanly', async () => {
    let stderr = '';
    const io: CliIo = {
      stdout: () => undefined,
      stderr: (t) => void (stderr += t),
      env: { PORT: '0', TACTFUL_ADMIN_TOKEN: token },
      cwd: process.cwd(),
      isTTY: false,
    };
    const others = new Set(process.listeners('SIGTERM'));
    const run = runCli(['--db', 'memory://', '--shop', 'serve-test.myshopify.com', 'serve'], io);
    const started = Date.now();
    let url: string | undefined;
    while (!url && Date.now() - started < 60_000) {
      await new Promise((r) => setTimeout(r, 50));
      url = /listening on (http:\/\/[^ ]+) /.exec(stderr)?.[1];
    }
    expect(url).toBeDefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/admin`)).status).toBe(401);
    // The signal goes to the handler `serve` added, not to every listener of this worker: playwright's would close
    // the chromium that the browser test files in this worker share.
    const handlers = process.listeners('SIGTERM').filter((listener) => !others.has(listener));
    expect(handlers).toHaveLength(1);
    for (const handler of handlers) handler('SIGTERM');
    expect(await run).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 90_000);
});
