import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import express from 'express';

/**
 * The browser files this app serves, written as files in `server/assets/` (linted by biome, type-checked with
 * tsconfig.assets.json). The build copies them to `dist/assets/`, beside the bundle: `./assets/` from this
 * module is the same folder whether it runs from the sources or from the installed package.
 */
const ownAssets = [
  ['style.css', 'text/css'],
  ['dashboard.js', 'text/javascript'],
  ['embedded.js', 'text/javascript'],
  ['segment-builder.js', 'text/javascript'],
] as const;

export const assetsFolder = fileURLToPath(new URL('./assets/', import.meta.url));

function readAsset(name: string): string {
  const file = join(assetsFolder, name);
  if (!existsSync(file))
    throw new Error(`The app's browser file ${name} is missing from ${assetsFolder}: rebuild the app (npm run build).`);
  return readFileSync(file, 'utf8');
}

function chartJsPath(): string {
  // chart.js exports no subpaths: find its folder from the main entry (dist/chart.cjs).
  const main = createRequire(import.meta.url).resolve('chart.js');
  return join(dirname(main), 'chart.umd.min.js');
}

let chartJsSource: string | undefined;

/** `/assets/style.css`, `/assets/dashboard.js`, `/assets/embedded.js` and `/assets/chart.umd.min.js` (Chart.js from node_modules: no CDN). */
export function assetRoutes(): Router {
  const router = express.Router();
  const send = (type: string, body: () => string) => (_req: express.Request, res: express.Response) => {
    res.type(type).set('Cache-Control', 'public, max-age=3600').send(body());
  };
  router.get('/favicon.ico', (_req, res) => void res.status(204).end());
  // Read once when the app is built, so a package that lacks one fails at start, not on a customer's page.
  for (const [name, type] of ownAssets) {
    const body = readAsset(name);
    router.get(
      `/assets/${name}`,
      send(type, () => body),
    );
  }
  router.get(
    '/assets/chart.umd.min.js',
    send('text/javascript', () => (chartJsSource ??= readFileSync(chartJsPath(), 'utf8'))),
  );
  return router;
}
