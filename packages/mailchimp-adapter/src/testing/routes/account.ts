/** The account root and the health check. */
import { accountJson } from '../responses.js';
import type { SandboxRoute } from './context.js';

export const accountRoutes: SandboxRoute[] = [
  { method: 'GET', path: '/ping', handle: () => ({ health_status: "Everything's Chimpy!" }) },
  { method: 'GET', path: '/', handle: ({ state }) => accountJson(state.audiences.values()) },
];
