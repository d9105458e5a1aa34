/**
 * The register of processing activities (GDPR Art. 30) of one shop: what Tactful processes, for which
 * purpose, on which legal basis, about whom, shared with whom, kept how long and protected how. Built from
 * the shop's purposes and settings, so it follows what the shop actually configured.
 */
import { listPurposes } from '../consent/purposes.js';
import { readShopSettings } from '../shop/settings.js';
import type { Db } from '../store/open.js';

export interface ProcessingActivity {
  activity: string;
  purpose: string;
  legalBasis: string;
  dataSubjects: string;
  dataCategories: string[];
  recipients: string[];
  retention: string;
  security: string;
  /** Where it lives in the store. */
  tables: string[];
}

export interface ProcessingRegister {
  controller: string;
  generatedAt: string;
  activities: ProcessingActivity[];
}

const encrypted =
  'AES-256-GCM under a per-person data key (wrapped by the shop key, itself wrapped by the master secret); email lookups through a keyed hash';

export async function processingRegister(
  db: Db,
  shopId: string,
  at: Date,
  retentionMonths: number,
): Promise<ProcessingRegister> {
  const purposes = await listPurposes(db, shopId);
  const settings = await readShopSettings(db, shopId);
  const systems = settings.connectedSystems;
  const activities: ProcessingActivity[] = [
    {
      activity: 'Consent records',
      purpose: 'Demonstrate that each person consented, to what, when and how (Art. 7(1))',
      legalBasis: 'Legal obligation — Art. 6(1)(c) with Art. 7(1)',
      dataSubjects: 'Customers and newsletter subscribers',
      dataCategories: [
        'email address (encrypted)',
        'consent events and their source',
        'evidence: IP address and user agent (encrypted)',
        'clause and policy version',
      ],
      recipients: [],
      retention:
        'For as long as the consent is relied on, then the limitation period; the encrypted identifiers become unreadable on erasure while the hash chain stays verifiable',
      security: `${encrypted}; append-only hash chain`,
      tables: ['subjects', 'subject_identifiers', 'consent_ledger', 'consent_state', 'opt_in_tokens'],
    },
    ...purposes.map(
      (p): ProcessingActivity => ({
        activity: p.title,
        purpose:
          p.key === 'personalization'
            ? 'Personal product recommendations and segments from a customer profile'
            : p.description || p.title,
        legalBasis: 'Consent — Art. 6(1)(a)',
        dataSubjects: 'Customers who granted this purpose',
        dataCategories:
          p.key === 'personalization'
            ? [
                'profile attributes with provenance (names, gender, birth date, location, job title, interests: encrypted; age, country, region, interests plain)',
                'order summary',
                'RFM scores and label',
              ]
            : p.key === 'email_marketing'
              ? [
                  'email address (encrypted)',
                  'sends (time, campaign, featured products)',
                  'automated flow steps per order (due time, outcome and its reason, featured products)',
                ]
              : ['email address (encrypted)', 'consent state'],
        recipients: systems,
        retention:
          p.key === 'personalization'
            ? `Until the consent is withdrawn (deleted at once) or ${retentionMonths} months without activity`
            : `Until withdrawal or ${retentionMonths} months without activity`,
        security: encrypted,
        tables:
          p.key === 'personalization'
            ? ['profiles', 'segments']
            : p.key === 'email_marketing'
              ? ['contact_sends', 'campaign_recipients', 'campaigns', 'campaign_waves', 'flows', 'flow_steps', 'outbox']
              : ['consent_state'],
      }),
    ),
    {
      activity: 'Order history',
      purpose: 'Performing the sales contract; aggregated co-purchase counts for product recommendations',
      legalBasis:
        'Contract — Art. 6(1)(b); legitimate interest (Art. 6(1)(f)) for the aggregated, non-personal co-purchase model',
      dataSubjects: 'Customers who ordered',
      dataCategories: [
        'order id, date, total, currency, status',
        'products ordered',
        'pseudonymous customer reference (keyed hash of the email or platform id)',
      ],
      recipients: [],
      retention: `As the shop keeps its orders; erased with the person; ${retentionMonths} months without activity`,
      security: 'No direct identifier stored; linked to the person by pseudonymous references only',
      tables: ['orders', 'order_lines', 'products', 'model_products', 'model_pairs', 'model_changes', 'model_fit'],
    },
    {
      activity: 'Synchronisation with connected systems',
      purpose: 'Keep consent and erasures consistent in every system that holds the person',
      legalBasis: 'Follows the purpose of each change; erasures: legal obligation — Art. 17(2), Art. 19',
      dataSubjects: 'Customers and subscribers',
      dataCategories: ['email address and external ids in queued changes', 'consent state'],
      recipients: systems,
      retention: 'Payloads cleared on delivery',
      security: 'Payloads encrypted under the shop key',
      tables: ['outbox', 'inbox', 'pushed_consent'],
    },
    {
      activity: 'Suppression list',
      purpose: 'Honour erasure: a later sync cannot bring an erased person back without a fresh opt-in',
      legalBasis: 'Legal obligation — Art. 17 and Art. 21(3)',
      dataSubjects: 'Erased persons',
      dataCategories: ['keyed hash of the email address'],
      recipients: [],
      retention: 'Indefinitely, or until the person opts in again themselves',
      security: 'Only a keyed hash is stored',
      tables: ['suppression'],
    },
    {
      activity: 'Audit log',
      purpose: 'Accountability (Art. 5(2)): who did what, when',
      legalBasis: 'Legal obligation — Art. 5(2), Art. 30',
      dataSubjects: 'Customers (by pseudonymous subject id only)',
      dataCategories: ['action, time, actor, subject id, non-personal details'],
      recipients: [],
      retention: 'As long as the records it proves',
      security: 'Append-only hash chain; no personal data in details',
      tables: ['audit_log'],
    },
  ];
  return { controller: shopId, generatedAt: at.toISOString(), activities };
}

export function registerMarkdown(register: ProcessingRegister): string {
  const lines = [
    `# Register of processing activities — ${register.controller}`,
    '',
    `Generated ${register.generatedAt} (GDPR Art. 30).`,
    '',
  ];
  for (const a of register.activities) {
    lines.push(
      `## ${a.activity}`,
      '',
      `- Purpose: ${a.purpose}`,
      `- Legal basis: ${a.legalBasis}`,
      `- Data subjects: ${a.dataSubjects}`,
      `- Data: ${a.dataCategories.join('; ')}`,
    );
    lines.push(
      `- Recipients: ${a.recipients.length ? a.recipients.join(', ') : 'none'}`,
      `- Retention: ${a.retention}`,
      `- Security: ${a.security}`,
      `- Tables: ${a.tables.join(', ')}`,
      '',
    );
  }
  return lines.join('\n');
}
