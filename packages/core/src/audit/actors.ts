import type { Actor } from './log.js';

/** The actor of what the engine does on its own (defaults, sync, retention) when the caller names none. */
export const systemActor: Actor = { type: 'system', id: 'tactful' };
