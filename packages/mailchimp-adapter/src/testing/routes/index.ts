/** Every endpoint the sandbox implements, one file per API area. */
import { accountRoutes } from './account.js';
import { batchRoutes } from './batch.js';
import { campaignRoutes } from './campaigns.js';
import type { SandboxRoute } from './context.js';
import { journeyRoutes } from './journeys.js';
import { listRoutes } from './lists.js';
import { memberRoutes } from './members.js';
import { reportRoutes } from './reports.js';
import { segmentRoutes } from './segments.js';
import { webhookRoutes } from './webhooks.js';

export type { SandboxContext, SandboxRoute } from './context.js';

export const sandboxRoutes: readonly SandboxRoute[] = [
  ...accountRoutes,
  ...listRoutes,
  ...batchRoutes,
  ...memberRoutes,
  ...segmentRoutes,
  ...webhookRoutes,
  ...campaignRoutes,
  ...reportRoutes,
  ...journeyRoutes,
];
