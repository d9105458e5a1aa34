/**
 * The README's screenshots (taken from the demo by `npm run screenshots`, scripts/screenshots.ts) stay honest
 * without running the demo: every image the README shows is a PNG under docs/screenshots/, every PNG there is
 * shown, each is one window of a desk (1280 px) or a phone (390 px) wide, and together they stay small.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const folder = 'docs/screenshots';
const PNG_SIGNATURE = '89504e470d0a1a0a';

/** The targets of a Markdown page's images (`![alt](target)`), in order. */
export function markdownImages(markdown: string): string[] {
  return [...markdown.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

/** Width and height from a PNG's header (the IHDR chunk follows the signature), or null when it is not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } | null {
  if (bytes.length < 24 || bytes.subarray(0, 8).toString('hex') !== PNG_SIGNATURE) return null;
  if (bytes.subarray(12, 16).toString('latin1') !== 'IHDR') return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const shown = markdownImages(readme);
const files = readdirSync(join(root, folder)).sort();

describe("the README's screenshots", () => {
  it('the README shows screenshots, all from docs/screenshots/, each once', () => {
    expect(shown.length).toBeGreaterThanOrEqual(10);
    expect(shown.filter((target) => !target.startsWith(`${folder}/`))).toEqual([]);
    expect(shown.filter((target, i) => shown.indexOf(target) !== i)).toEqual([]);
  });

  it('every image the README shows is there, and every file there is shown', () => {
    const names = shown.map((target) => target.slice(folder.length + 1));
    expect(names.filter((name) => !files.includes(name))).toEqual([]);
    expect(files.filter((file) => !names.includes(file))).toEqual([]);
  });

  it('each is a PNG one window wide, of a desk (1280 px) or a phone (390 px), and together under 2 MB', () => {
    let total = 0;
    const wrong: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(join(root, folder, file));
      total += statSync(join(root, folder, file)).size;
      const size = pngSize(bytes);
      if (!size || ![1280, 390].includes(size.width) || size.height > 1000)
        wrong.push(`${file}: ${size ? `${size.width}×${size.height}` : 'not a PNG'}`);
    }
    expect(wrong).toEqual([]);
    expect(total).toBeLessThan(2 * 1024 * 1024);
    expect(files.some((file) => pngSize(readFileSync(join(root, folder, file)))?.width === 390)).toBe(true);
  });

  it('the checks find what they look for', () => {
    expect(
      markdownImages('![Dashboard](docs/screenshots/a.png) and ![b]( <docs/screenshots/b.png> "title") [c](c.png)'),
    ).toEqual(['docs/screenshots/a.png', 'docs/screenshots/b.png']);
    const header = Buffer.alloc(24);
    Buffer.from(PNG_SIGNATURE, 'hex').copy(header);
    header.write('IHDR', 12, 'latin1');
    header.writeUInt32BE(390, 16);
    header.writeUInt32BE(844, 20);
    expect(pngSize(header)).toEqual({ width: 390, height: 844 });
    expect(pngSize(Buffer.from('GIF89a not a png at all'))).toBeNull();
  });
});
