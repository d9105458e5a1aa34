/**
 * `npm run bench -- memory`: how much memory the app and the demo hold, each in a child process of its own running
 * the built CLI (`packages/app/dist/cli.js`; `npm run build` first), beside PGlite's own share:
 *   - `tactful serve` on a fresh embedded folder and on `memory://`: idle after start-up, after serving a few admin
 *     pages, and after a full garbage collection (VmRSS and VmHWM from /proc/<pid>/status; the JS heap, `external`
 *     and `arrayBuffers` from `process.memoryUsage()` inside the process, through bench/memory-probe.mjs);
 *   - a bare PGlite (no app, no engine) opening the folder the app just used and a fresh `memory://`, with the
 *     shared_buffers the app uses: the baseline, PGlite's share of the app's figure;
 *   - `tactful demo --no-serve --customers N` (the default 2 000 and 500): the peak resident set (VmHWM) and the step
 *     it falls in, from /proc/<pid>/status sampled every 50 ms and the step lines the demo prints at each step's end.
 * The aims (issue #21) are printed beside each figure: the app idle under 300 MB, the demo's peak under 600 MB.
 * Options: `--customers=a,b` (demo sizes), `--parts=serve,demo` (either or both), `--baseline=<folder>` (another built checkout: the same figures of its
 * CLI, printed beside this one's, e.g. a copy of the code before a change).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { procStatus } from './proc-status.js';

const MB = 1e6;
const APP_IDLE_AIM_MB = 300;
const DEMO_PEAK_AIM_MB = 600;
const PROBE = fileURLToPath(new URL('./memory-probe.mjs', import.meta.url));
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TOKEN = 'b'.repeat(32);

interface Usage {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}
interface Sample extends Usage {
  t: number;
  gc?: boolean;
  exit?: boolean;
  vmRss?: number;
  vmHwm?: number;
}

/** One moment of a measured process, in MB (10^6 bytes). */
export interface MemoryFigure {
  vmRssMB: number;
  vmHwmMB: number;
  heapUsedMB: number;
  externalMB: number;
  arrayBuffersMB: number;
}

const flag = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const mb = (bytes: number) => Math.round(bytes / MB);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function readSamples(file: string): Sample[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Sample);
}

function figure(pid: number, probeFile: string): MemoryFigure {
  const status = procStatus(pid) ?? { vmRss: 0, vmHwm: 0 };
  const last = readSamples(probeFile).at(-1);
  return {
    vmRssMB: mb(status.vmRss),
    vmHwmMB: mb(status.vmHwm),
    heapUsedMB: mb(last?.heapUsed ?? 0),
    externalMB: mb(last?.external ?? 0),
    arrayBuffersMB: mb(last?.arrayBuffers ?? 0),
  };
}

/** Asks the probe for a full garbage collection and waits for its sample. */
async function collectGarbage(pid: number, probeFile: string): Promise<void> {
  const before = readSamples(probeFile).filter((s) => s.gc).length;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100 && readSamples(probeFile).filter((s) => s.gc).length === before; i++) await sleep(50);
  await sleep(200);
}

const show = (f: MemoryFigure) =>
  `RSS ${f.vmRssMB} MB (peak ${f.vmHwmMB}), heap ${f.heapUsedMB} MB, external ${f.externalMB} MB (array buffers ${f.arrayBuffersMB})`;

export interface ServeMemory {
  db: 'new folder' | 'reopened folder' | 'memory://';
  idle: MemoryFigure;
  afterPages: MemoryFigure;
  afterGc: MemoryFigure;
  pages: Record<string, number>;
}

/** `tactful serve` in a child process: idle, after a few admin pages, after a full GC. */
async function measureServe(cli: string, db: string, label: ServeMemory['db'], cache: string): Promise<ServeMemory> {
  const work = mkdtempSync(join(tmpdir(), 'tactful-bench-memory-'));
  const probeFile = join(work, 'probe.jsonl');
  const child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, cli, 'serve'], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      XDG_CACHE_HOME: cache,
      TACTFUL_MEMORY_PROBE: probeFile,
      TACTFUL_ADMIN_TOKEN: TOKEN,
      TACTFUL_DB: db,
      TACTFUL_SHOP: 'memory-bench.myshopify.com',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
    },
  });
  try {
    let stderr = '';
    const url = await new Promise<string>((done, fail) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on (http:\/\/\S+?) /.exec(stderr);
        if (match) done(match[1]!);
      });
      child.once('exit', (code) => fail(new Error(`tactful serve exited (${code}) before listening:\n${stderr}`)));
    });
    await sleep(3000);
    const idle = figure(child.pid!, probeFile);
    const pages: Record<string, number> = {};
    for (const path of ['/healthz', '/admin', '/admin/customers', '/admin/segments', '/admin/campaign', '/admin/audit'])
      for (let round = 0; round < 3; round++) {
        const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        await response.arrayBuffer();
        pages[path] = response.status;
      }
    await sleep(2000);
    const afterPages = figure(child.pid!, probeFile);
    await collectGarbage(child.pid!, probeFile);
    const afterGc = figure(child.pid!, probeFile);
    return { db: label, idle, afterPages, afterGc, pages };
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done(undefined)));
    rmSync(work, { recursive: true, force: true });
  }
}

export interface PgliteMemory {
  db: 'new folder' | 'reopened folder' | 'memory://' | 'image into a new folder' | 'image into memory://';
  open: MemoryFigure;
  afterGc: MemoryFigure;
}

/** A bare PGlite in a child process (plain `node`, no app): PGlite's own share. */
async function measurePglite(
  db: string,
  label: PgliteMemory['db'],
  sharedBuffers: string,
  image?: string,
): Promise<PgliteMemory> {
  const work = mkdtempSync(join(tmpdir(), 'tactful-bench-pglite-'));
  const probeFile = join(work, 'probe.jsonl');
  // With an image: PGlite's own loadDataDir, the way to start from an image without unpacking it first.
  const source = `
    import { PGlite } from '@electric-sql/pglite';
    import { openAsBlob } from 'node:fs';
    const db = ${JSON.stringify(db)};
    const image = ${JSON.stringify(image ?? null)};
    const options = { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=${sharedBuffers}'] };
    if (image) options.loadDataDir = await openAsBlob(image);
    const client = db === 'memory://' ? new PGlite(options) : new PGlite(db, options);
    await client.waitReady;
    await client.query('select count(*) from pg_class');
    process.stdout.write('ready\\n');
    process.on('SIGTERM', async () => { await client.close(); process.exit(0); });
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, '--input-type=module', '-e', source], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TACTFUL_MEMORY_PROBE: probeFile },
  });
  try {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((done, fail) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && done());
      child.once('exit', (code) => fail(new Error(`bare PGlite exited (${code}):\n${stderr}`)));
    });
    await sleep(3000);
    const open = figure(child.pid!, probeFile);
    await collectGarbage(child.pid!, probeFile);
    return { db: label, open, afterGc: figure(child.pid!, probeFile) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done(undefined)));
    rmSync(work, { recursive: true, force: true });
  }
}

export interface DemoMemory {
  customers: number;
  seconds: number;
  peakMB: number;
  /** The step whose sampling interval held the highest resident set. */
  peakStep: string;
  steps: Array<{ step: string; peakRssMB: number; peakHeapMB: number; peakExternalMB: number; seconds: number }>;
}

/** The name of a step line the demo prints when a step ends ("  order history: 9835 orders …  [3.1 s]"). */
function stepName(line: string): string | undefined {
  if (line.startsWith('A Shopify shop (sandbox) seeded')) return 'open the database, seed the sandboxes';
  if (!/\[\d+(\.\d+)? s\]\s*$/.test(line)) return undefined;
  const text = line.trim();
  const colon = text.indexOf(':');
  return (colon > 0 ? text.slice(0, colon) : text).slice(0, 40);
}

/** `tactful demo --no-serve` in a child process: its peak and the step it falls in. */
async function measureDemo(cli: string, customers: number, cache: string): Promise<DemoMemory> {
  const work = mkdtempSync(join(tmpdir(), 'tactful-bench-demo-'));
  const probeFile = join(work, 'probe.jsonl');
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['--import', PROBE, cli, 'demo', '--no-serve', '--data', join(work, 'demo'), '--customers', String(customers)],
    {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, XDG_CACHE_HOME: cache, TACTFUL_MEMORY_PROBE: probeFile },
    },
  );
  // Each step's end, as the demo prints it; samples before a step's line belong to that step.
  const ends: Array<{ t: number; step: string }> = [];
  const rss: Array<{ t: number; rss: number }> = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stdout += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const step = stepName(line);
      if (step) ends.push({ t: Date.now(), step });
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setInterval(() => {
    const status = procStatus(child.pid!);
    if (status) rss.push({ t: Date.now(), rss: status.vmRss });
  }, 50);
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  clearInterval(timer);
  const ended = Date.now();
  try {
    if (code !== 0) throw new Error(`tactful demo exited ${code}:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`);
    const samples = readSamples(probeFile);
    const exit = samples.find((s) => s.exit);
    const stepOf = (t: number) => ends.find((e) => t <= e.t)?.step ?? 'report and story (after the pipeline)';
    const byStep = new Map<string, DemoMemory['steps'][number] & { from: number }>();
    const starts = [started, ...ends.map((e) => e.t)];
    const entry = (step: string, t: number) => {
      let e = byStep.get(step);
      if (!e) {
        const i = ends.findIndex((x) => x.step === step);
        const from = i >= 0 ? starts[i]! : (ends.at(-1)?.t ?? started);
        byStep.set(step, (e = { step, peakRssMB: 0, peakHeapMB: 0, peakExternalMB: 0, seconds: 0, from }));
      }
      e.seconds = Math.max(e.seconds, (t - e.from) / 1000);
      return e;
    };
    for (const s of rss) {
      const e = entry(stepOf(s.t), s.t);
      e.peakRssMB = Math.max(e.peakRssMB, mb(s.rss));
    }
    for (const s of samples) {
      const e = entry(stepOf(s.t), s.t);
      e.peakRssMB = Math.max(e.peakRssMB, mb(s.rss));
      e.peakHeapMB = Math.max(e.peakHeapMB, mb(s.heapUsed));
      e.peakExternalMB = Math.max(e.peakExternalMB, mb(s.external));
    }
    const steps = [...byStep.values()].map(({ from: _from, ...rest }) => rest);
    const top = steps.reduce((a, b) => (b.peakRssMB > a.peakRssMB ? b : a), steps[0]!);
    return {
      customers,
      seconds: (ended - started) / 1000,
      peakMB: exit?.vmHwm ? mb(exit.vmHwm) : top.peakRssMB,
      peakStep: top.step,
      steps,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const share = (part: number, whole: number) => `${Math.round((100 * part) / whole)} %`;
const aim = (value: number, limit: number) => (value < limit ? `aim < ${limit} MB: met` : `aim < ${limit} MB: MISSED`);

interface CheckoutMemory {
  cli: string;
  serve: ServeMemory[];
  pglite: PgliteMemory[];
  demo: DemoMemory[];
}

async function measureCheckout(root: string, sizes: number[], name: string, parts: string[]): Promise<CheckoutMemory> {
  const cli = join(root, 'packages/app/dist/cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (in ${root}) first`);
  const sharedBuffers = process.env.TACTFUL_PGLITE_SHARED_BUFFERS ?? '32MB';
  const out: CheckoutMemory = { cli, serve: [], pglite: [], demo: [] };
  console.log(`  ${name}: ${cli}`);
  const folderRoot = mkdtempSync(join(tmpdir(), 'tactful-bench-memory-db-'));
  // The user's cache folder, empty at first: the first new database makes the migrated image (core's
  // pglite-image.ts, in a child process), later ones unpack it. A checkout without images ignores it.
  const cache = join(folderRoot, 'cache');
  try {
    let bare: PgliteMemory | undefined;
    const runs = [
      [join(folderRoot, 'db'), 'new folder'],
      [join(folderRoot, 'db'), 'reopened folder'],
      ['memory://', 'memory://'],
    ] as const;
    for (const [db, label] of parts.includes('serve') ? runs : []) {
      const serve = await measureServe(cli, db, label, cache);
      out.serve.push(serve);
      // PGlite alone on the folder the app made (as the app reopens it), and on a new memory://.
      // A new database: PGlite alone creating it (initdb), its peak beside the app's.
      if (label === 'new folder') out.pglite.push(await measurePglite(join(folderRoot, 'bare'), label, sharedBuffers));
      if (label !== 'reopened folder')
        out.pglite.push(
          (bare = await measurePglite(db, label === 'memory://' ? label : 'reopened folder', sharedBuffers)),
        );
      const image = label === 'new folder' ? imageIn(join(cache, 'tactful')) : undefined;
      if (image) {
        const intoFolder = await measurePglite(
          join(folderRoot, 'bare-image'),
          'image into a new folder',
          sharedBuffers,
          image,
        );
        const intoMemory = await measurePglite('memory://', 'image into memory://', sharedBuffers, image);
        out.pglite.push(intoFolder, intoMemory);
        console.log(
          `    PGlite alone loading the image (loadDataDir): into a new folder peaks at ${intoFolder.open.vmHwmMB} MB, holds ${intoFolder.open.vmRssMB} MB (${intoFolder.afterGc.vmRssMB} after a full GC); into memory:// peaks at ${intoMemory.open.vmHwmMB} MB, holds ${intoMemory.open.vmRssMB} MB (${intoMemory.afterGc.vmRssMB})`,
        );
      }
      const idle = serve.idle.vmRssMB;
      console.log(
        `    app idle (${label}) ${idle} MB (${aim(idle, APP_IDLE_AIM_MB)}; PGlite alone ${bare!.open.vmRssMB} MB = ${share(bare!.open.vmRssMB, idle)})`,
      );
      console.log(`      idle:             ${show(serve.idle)}`);
      console.log(`      after admin pages: ${show(serve.afterPages)}`);
      console.log(`      after a full GC:  ${show(serve.afterGc)}`);
      console.log(
        `      PGlite alone:     ${label === 'new folder' ? `creating a new folder peaks at ${out.pglite[0]!.open.vmHwmMB} MB; ` : ''}${show(bare!.open)}; after a full GC RSS ${bare!.afterGc.vmRssMB} MB (shared_buffers ${sharedBuffers}${label === 'memory://' ? ', a new memory://' : ', the folder the app made'})`,
      );
    }
    for (const customers of parts.includes('demo') ? sizes : []) {
      const demo = await measureDemo(cli, customers, cache);
      const creating = out.pglite.find((p) => p.db === 'new folder')?.open.vmHwmMB;
      out.demo.push(demo);
      console.log(
        `    demo --customers ${customers}: peak ${demo.peakMB} MB (${aim(demo.peakMB, DEMO_PEAK_AIM_MB)}; ${creating ? `PGlite alone creating a new folder in its own process peaks at ${creating} MB` : 'PGlite alone: measured with --parts=serve'}) in "${demo.peakStep}", ${demo.seconds.toFixed(0)} s`,
      );
      for (const s of demo.steps)
        console.log(
          `      ${s.step.padEnd(40)} ${s.seconds.toFixed(0).padStart(4)} s, peak RSS ${String(s.peakRssMB).padStart(4)} MB, heap ${s.peakHeapMB ? `${s.peakHeapMB} MB` : '-'}, external ${s.peakExternalMB ? `${s.peakExternalMB} MB` : '-'}`,
        );
    }
  } finally {
    rmSync(folderRoot, { recursive: true, force: true });
  }
  return out;
}

/** The migrated image a checkout with images made in `folder`, if any. */
function imageIn(folder: string): string | undefined {
  if (!existsSync(folder)) return undefined;
  const name = readdirSync(folder).find((file) => /^pglite-[0-9a-f]+\.tar$/.test(file));
  return name ? join(folder, name) : undefined;
}

export async function benchMemory() {
  const sizes = (flag('customers') ?? '2000,500').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--customers=${flag('customers')}: give whole numbers, e.g. --customers=2000,500`);
  const baselineRoot = flag('baseline');
  const loadBefore = loadavg()[0]!;
  console.log(
    `  resident memory of each process (MB = 10^6 bytes), each in a child process of its own; load average ${loadBefore.toFixed(2)}`,
  );
  const parts = (flag('parts') ?? 'serve,demo').split(',');
  const current = await measureCheckout(ROOT, sizes, 'this checkout', parts);
  const baseline = baselineRoot ? await measureCheckout(resolve(baselineRoot), sizes, 'baseline', parts) : undefined;
  if (baseline) {
    for (const [i, s] of current.serve.entries())
      if (baseline.serve[i])
        console.log(
          `  ratio app idle (${s.db}) this/baseline: ${(s.idle.vmRssMB / baseline.serve[i]!.idle.vmRssMB).toFixed(2)}×`,
        );
    for (const [i, d] of current.demo.entries())
      if (baseline.demo[i])
        console.log(
          `  ratio demo --customers ${d.customers} peak this/baseline: ${(d.peakMB / baseline.demo[i]!.peakMB).toFixed(2)}×`,
        );
  }
  const loadAfter = loadavg()[0]!;
  console.log(`  load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}`);
  return { current, baseline, loadAverage: [loadBefore, loadAfter] };
}
