import cliProgress from 'cli-progress';
import type { CliIo } from './io.js';

/**
 * Progress of long work (imports, sync, demo steps, campaign sends), drawn on stderr with cli-progress.
 * Drawn only when stderr is a terminal and the command is not printing JSON, so captured output (pipes,
 * `--json`, tests) never carries escape codes. When nothing is drawn every method is a no-op.
 */
export interface Progress {
  /** Adds `n` (default 1) to the done count. */
  tick(n?: number): void;
  /** Sets the done count. */
  set(value: number): void;
  /** Sets or changes the total (when it is learnt along the way). */
  total(total: number): void;
  /** Whether a bar is being drawn. */
  readonly drawing: boolean;
}

export interface ProgressOptions {
  /** Never draw (e.g. `--json`). */
  quiet?: boolean | undefined;
  /** Unit shown after the count: "orders", "members". */
  unit?: string | undefined;
}

const silent: Progress = { tick() {}, set() {}, total() {}, drawing: false };

/** Whether progress is drawn for `io`: stderr is a terminal, not quiet, and TACTFUL_PROGRESS is not 0. */
export function progressEnabled(io: CliIo, options: ProgressOptions = {}): boolean {
  return io.isTTY && !options.quiet && io.env.TACTFUL_PROGRESS !== '0';
}

/** A writable that cli-progress can draw on: every write goes to `io.stderr`. */
function stderrStream(io: CliIo): NodeJS.WritableStream {
  const columns = process.stderr.columns || 80;
  return {
    isTTY: true,
    columns,
    write(chunk: string | Uint8Array) {
      io.stderr(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
    // readline.cursorTo / clearLine only write escape codes through write(); the rest is never called.
    on() {
      return this;
    },
    once() {
      return this;
    },
    emit() {
      return false;
    },
  } as unknown as NodeJS.WritableStream;
}

/**
 * Runs `work` with a progress bar labelled `label`. `total` may be unknown (undefined or 0): then a
 * running count is shown instead of a bar. The bar is cleared when the work ends, failed or not.
 */
export async function withProgress<T>(
  io: CliIo,
  label: string,
  total: number | undefined,
  work: (progress: Progress) => Promise<T>,
  options: ProgressOptions = {},
): Promise<T> {
  if (!progressEnabled(io, options)) return work(silent);
  const unit = options.unit ? ` ${options.unit}` : '';
  let known = total !== undefined && total > 0;
  // The format is chosen at each draw, so a total learnt along the way turns the count into a bar.
  const format: cliProgress.GenericFormatter = (opts, params, payload) =>
    cliProgress.Format.Formatter(
      {
        ...opts,
        format: known
          ? `${label} [{bar}] {percentage}% {value}/{total}${unit} ETA {eta_formatted}`
          : `${label} {value}${unit} {duration_formatted}`,
      },
      params,
      payload,
    );
  const bar = new cliProgress.SingleBar(
    {
      format,
      stream: stderrStream(io),
      clearOnComplete: true,
      hideCursor: false,
      fps: 8,
      etaBuffer: 50,
      barsize: 30,
      linewrap: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  bar.start(known ? total! : 0, 0);
  const progress: Progress = {
    drawing: true,
    tick(n = 1) {
      value += n;
      bar.update(value);
    },
    set(v) {
      value = v;
      bar.update(value);
    },
    total(t) {
      known = t > 0;
      bar.setTotal(t);
    },
  };
  try {
    return await work(progress);
  } finally {
    bar.stop();
  }
}
