import { isTactfulError } from '@tactful/core';

/** Where a command writes and what it reads from its surroundings; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Whether stderr is a terminal (progress bars draw only then). */
  isTTY: boolean;
  /** Lines typed while a long-running command waits (the demo prints a new sign-in link on Enter). */
  stdin?: NodeJS.ReadableStream | undefined;
  /** Resolves when a long-running command should stop; default the first SIGINT or SIGTERM. */
  untilStopped?: (() => Promise<unknown>) | undefined;
}

export const processIo = (): CliIo => ({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stderr.isTTY),
  // Only a terminal: a pipe or /dev/null has no one pressing Enter, and reading it could hold the process.
  stdin: process.stdin.isTTY ? process.stdin : undefined,
});

/** Exit codes of every command: 0 done, 1 refused by a rule, 2 invalid input. */
export const EXIT = { ok: 0, refused: 1, invalid: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Thrown by a command to stop with a code and one clear line. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliExit';
  }
}

/** Error codes that mean "the input was wrong" (exit 2); any other TactfulError is a refusal (exit 1). */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliExit) return error.exitCode;
  if (isTactfulError(error)) {
    const code = error.code;
    if (
      code.startsWith('INPUT.') ||
      code.startsWith('CONFIG.') ||
      code.endsWith('.INVALID') ||
      code.includes('.UNKNOWN_') ||
      code.endsWith('.NOT_FOUND') ||
      code.endsWith('.CONFLICT')
    ) {
      return EXIT.invalid;
    }
    return EXIT.refused;
  }
  return EXIT.refused;
}
