import { runCli } from './program.js';
import type { CliIo } from './io.js';

/** Runs the CLI in-process with captured output; for tests. */
export async function runCaptured(argv: string[], env: Record<string, string | undefined> = {}, cwd = process.cwd()) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env,
    cwd,
    isTTY: false,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
