import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

const BLOCK = 512;

/**
 * Unpacks a migrated image (the ustar archive PGlite's `dumpDataDir` writes: directories and regular files named
 * from the data directory's root) into the new data directory `dataDir`, without PGlite: PGlite's own
 * `loadDataDir` reads the whole archive into memory and unpacks it through its WebAssembly file system, and the
 * process keeps ~100 MB of that (its peak 330-360 MB); unpacked here a chunk at a time, the database then opens
 * like a folder reopened (~190 MB). Unpacked beside `dataDir` and renamed into place, so a failure leaves no
 * half database that would later look created. Throws on anything but a whole, well-formed archive.
 */
export function unpackPgliteImage(image: string, dataDir: string): void {
  const partial = `${dataDir}.unpack-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(partial, { recursive: true, mode: 0o700 });
  const fd = openSync(image, 'r');
  try {
    const header = Buffer.alloc(BLOCK);
    const chunk = Buffer.alloc(1 << 16);
    let position = 0;
    for (;;) {
      if (readSync(fd, header, 0, BLOCK, position) !== BLOCK)
        throw new Error('the archive ends without its end marker');
      position += BLOCK;
      if (header.every((byte) => byte === 0)) break;
      const entry = parseHeader(header);
      const target = join(partial, ...entry.path);
      if (entry.type === 'directory') mkdirSync(target, { recursive: true, mode: 0o700 });
      else {
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
        const out = openSync(target, 'wx', 0o600);
        try {
          for (let done = 0; done < entry.size; ) {
            const want = Math.min(chunk.length, entry.size - done);
            const read = readSync(fd, chunk, 0, want, position + done);
            if (read !== want) throw new Error(`the archive ends inside ${entry.path.join('/')}`);
            writeSync(out, chunk, 0, read);
            done += read;
          }
        } finally {
          closeSync(out);
        }
      }
      position += Math.ceil(entry.size / BLOCK) * BLOCK;
    }
    if (!existsSync(join(partial, 'PG_VERSION'))) throw new Error('the archive holds no PG_VERSION');
    // An empty folder made beforehand (by the user, or a previous attempt) is replaced; anything else is kept.
    if (existsSync(dataDir) && readdirSync(dataDir).length === 0) rmdirSync(dataDir);
    renameSync(partial, dataDir);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  } finally {
    closeSync(fd);
  }
}

interface Entry {
  type: 'file' | 'directory';
  /** The entry's path below the data directory, one name a part; never `..` or empty. */
  path: string[];
  size: number;
}

function parseHeader(header: Buffer): Entry {
  const text = (offset: number, length: number) => {
    const end = header.indexOf(0, offset);
    return header.toString('utf8', offset, end === -1 || end > offset + length ? offset + length : end);
  };
  const checksum = Number.parseInt(text(148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  if (sum !== checksum) throw new Error('a header of the archive is damaged (checksum)');
  const prefix = text(257, 6) === 'ustar' ? text(345, 155) : '';
  const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
  const path = name.split('/').filter((part) => part !== '' && part !== '.');
  if (path.length === 0 || path.includes('..')) throw new Error(`the archive names an unsafe path "${name}"`);
  const flag = String.fromCharCode(header[156]!);
  const size = Number.parseInt(text(124, 12).trim() || '0', 8);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`the archive gives ${name} no size`);
  if (flag === '5') return { type: 'directory', path, size: 0 };
  if (flag === '0' || flag === '\0') return { type: 'file', path, size };
  throw new Error(`the archive holds ${name} of a kind a database image never has ("${flag}")`);
}
