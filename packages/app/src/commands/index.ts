import type { CommandModule } from '../cli/program.js';
import { auditCommand } from './audit.js';
import { consentCommand } from './consent.js';
import { demoCommand } from './demo.js';
import { rulesCommand } from './rules.js';
import { evaluateCommand } from './evaluate.js';
import { importCommand } from './import.js';
import { recommendCommand } from './recommend.js';
import { segmentCommand } from './segment.js';
import { reportCommand } from './report.js';
import { profileCommand } from './profile.js';
import { privacyCommand } from './privacy.js';
import { serveCommand } from './serve.js';
import { newCommand } from './new-adapter.js';
import { syncCommand } from './sync.js';
import { campaignCommand } from './campaign.js';
import { flowsCommand } from './flows.js';
import { settingsCommand } from './settings.js';

/** Every top-level command of `tactful`, in the order `--help` lists them. */
export const commandModules: CommandModule[] = [
  demoCommand,
  consentCommand,
  auditCommand,
  rulesCommand,
  evaluateCommand,
  importCommand,
  syncCommand,
  campaignCommand,
  flowsCommand,
  settingsCommand,
  recommendCommand,
  serveCommand,
  profileCommand,
  segmentCommand,
  reportCommand,
  privacyCommand,
  newCommand,
];
