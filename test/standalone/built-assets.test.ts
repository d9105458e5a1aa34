/**
 * The browser files as the built app serves them: `tactful serve` from packages/app/dist (no sources, no tsx,
 * started from an empty folder so nothing is found through the working directory) answers every asset with
 * its content type and cache header, and serves the files of src/server/assets as they are, so the build
 * copied the current ones. A file the build forgets fails here as a start that never listens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const app = fileURLToPath(new URL('../../packages/app/', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'tactful-built-assets-'));
let child: ChildProcess | undefined;
let url = '';

beforeAll(async () => {
  child = spawn(
    process.execPath,
    [join(app, 'dist/cli.js'), '--db', 'memory://', '--shop', 'built-assets.myshopify.com', 'serve'],
    {
      cwd,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PORT: '0',
        HOST: '127.0.0.1',
        TACTFUL_ADMIN_TOKEN: 'a-long-enough-admin-token-123456',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  url = await new Promise<string>((resolve, reject) => {
    const seen = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening on (http:\/\/[^ ]+) /.exec(output)?.[1];
      if (found) resolve(found);
    };
    child!.stdout!.on('data', seen);
    child!.stderr!.on('data', seen);
    child!.on('exit', (code) => reject(new Error(`the built app exited (${code}) before listening:\n${output}`)));
  });
}, 60_000);

afterAll(() => {
  child?.kill('SIGTERM');
  rmSync(cwd, { recursive: true, force: true });
});

describe('the built app serves its browser files', () => {
  it.each([
    ['style.css', 'text/css; charset=utf-8'],
    ['dashboard.js', 'text/javascript; charset=utf-8'],
    ['embedded.js', 'text/javascript; charset=utf-8'],
  ])('/assets/%s as %s, the file of src/server/assets as it is', async (name, type) => {
    const res = await fetch(`${url}/assets/${name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await res.text()).toBe(readFileSync(join(app, 'src/server/assets', name), 'utf8'));
  });

  it('/assets/chart.umd.min.js, Chart.js from the installed package', async () => {
    const res = await fetch(`${url}/assets/chart.umd.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await res.text()).toContain('Chart');
  });

  it('the pages name the assets it serves', async () => {
    const body = await (await fetch(`${url}/subscribe`)).text();
    expect(body).toContain('<link rel="stylesheet" href="/assets/style.css">');
  });
});
