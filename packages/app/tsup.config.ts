import { cpSync } from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  banner: ({ format }) => (format === 'esm' ? { js: '' } : {}),
  // The browser files (server/assets) are served as they are: beside the bundle, where assets.ts finds them.
  async onSuccess() {
    cpSync('src/server/assets', 'dist/assets', { recursive: true });
  },
});
