import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

/**
 * One log line per request: method, path, status and duration. Nothing personal: no query string (tokens
 * and emails travel there), no IP, no headers, no body; a path segment that looks like a secret (long
 * token-like text, or anything with an @) is replaced by `:redacted`.
 */
export function redactPath(path: string): string {
  return path
    .split('/')
    .map((segment) =>
      segment.length >= 24 || segment.includes('@') || segment.includes('%40') ? ':redacted' : segment,
    )
    .join('/');
}

export function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const path = redactPath((req.originalUrl || req.url).split('?')[0] ?? '/');
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      logger[level]({ method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
