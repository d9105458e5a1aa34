import { randomBytes } from 'node:crypto';
import type {
  CampaignActivity,
  CampaignReport,
  CampaignRequest,
  CampaignResult,
  TestEmailRequest,
} from '@tactful/core';
import { TactfulError, isTactfulError } from '@tactful/core';
import type { MailchimpClient } from '../client.js';
import type { MailchimpOptions } from '../options.js';
import { normaliseEmail } from '../subscriber-hash.js';
import { renderMergeTags } from './merge-tags.js';
import {
  campaignFieldsFor,
  campaignMergeFields,
  contentProblems,
  escapeHtml,
  renderCampaignHtml,
  type MergeFieldSpec,
} from './template.js';

const CHUNK = 500;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Related-product campaigns: make sure the merge fields exist, write each recipient's fields in
 * batches of 500, put exactly the eligible recipients in a static segment, create a regular campaign
 * for that segment with Tactful's HTML, and send it. With `journey` configured, each recipient is
 * triggered into that Customer Journey step instead. The campaign title carries the idempotency key,
 * so a re-run with the same key finds the campaign instead of creating a second one.
 */
export function createCampaignSender(deps: {
  client: MailchimpClient;
  options: MailchimpOptions;
  sanitise: (value: string) => string;
}) {
  const { client, options } = deps;
  const listId = options.audienceId;
  /**
   * Read every time (one call): someone may have deleted a field in Mailchimp since the last campaign. `extra`
   * fields are made too (the journey trigger's marker).
   */
  async function ensureMergeFields(extra: MergeFieldSpec[] = []): Promise<string[]> {
    const wanted = [...campaignMergeFields(options.mergeTags), ...extra];
    const page = await client.listMergeFields(listId);
    const knownTags = new Set(page.merge_fields.map((f) => f.tag));
    const created: string[] = [];
    for (const field of wanted) {
      if (knownTags.has(field.tag)) continue;
      await client.createMergeField(listId, {
        tag: field.tag,
        name: field.name,
        type: field.type,
        required: false,
        public: false,
      });
      knownTags.add(field.tag);
      created.push(field.tag);
    }
    return created;
  }

  async function findCampaign(title: string) {
    for (let offset = 0; ; offset += 1000) {
      const page = await client.listCampaigns({ list_id: listId, count: 1000, offset });
      const hit = page.campaigns.find((c) => c.settings?.title === title);
      if (hit) return hit;
      if (offset + 1000 >= page.total_items) return null;
    }
  }

  async function findOrCreateSegment(name: string): Promise<number> {
    for (let offset = 0; ; offset += 1000) {
      const page = await client.listSegments(listId, { type: 'static', count: 1000, offset });
      const hit = page.segments.find((s) => s.name === name);
      if (hit) return hit.id;
      if (offset + 1000 >= page.total_items) break;
    }
    return (await client.createSegment(listId, { name, static_segment: [] })).id;
  }

  async function sendCampaign(request: CampaignRequest): Promise<CampaignResult> {
    const problems: string[] = [];
    if (!request.key.trim()) problems.push('key is empty');
    if (!request.subject.trim()) problems.push('subject is empty');
    if (!request.sender.name.trim()) problems.push('sender name is empty');
    if (!request.sender.email.includes('@')) problems.push('sender email is not an address');
    for (const r of request.recipients)
      for (const problem of contentProblems(r.content)) problems.push(`${r.email} ${problem}`);
    if (problems.length > 0)
      throw new TactfulError(
        'MAILCHIMP.CAMPAIGN_INVALID',
        `Cannot send campaign ${request.key}: ${problems.join('; ')}.`,
        { details: problems },
      );

    const title = `tactful:${request.key}`;
    const recipients = new Map<string, Record<string, string>>();
    for (const r of request.recipients)
      recipients.set(normaliseEmail(r.email), campaignFieldsFor(r.content, options.mergeTags));
    const failed: CampaignResult['failed'] = [];

    if (!options.journey) {
      const existing = await findCampaign(title);
      if (existing && existing.status !== 'save') {
        // Already sent under this key: report it, never send a second time.
        return { campaignId: existing.id, sent: [...recipients.keys()], failed };
      }
    }

    await ensureMergeFields();

    // Write each recipient's merge values; only subscribed members are eligible.
    const eligible: string[] = [];
    for (const part of chunks([...recipients.entries()], CHUNK)) {
      const response = await client.batchMembers(listId, {
        members: part.map(([email, fields]) => ({
          email_address: email,
          merge_fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toUpperCase(), deps.sanitise(v)])),
        })),
        update_existing: true,
      });
      const errors = new Map(response.errors.map((e) => [normaliseEmail(e.email_address), e.error]));
      const statuses = new Map(
        [...response.updated_members, ...response.new_members].map((m) => [normaliseEmail(m.email_address), m.status]),
      );
      for (const [email] of part) {
        const error = errors.get(email);
        const status = statuses.get(email);
        if (error !== undefined)
          failed.push({ email, code: 'MAILCHIMP.NOT_A_MEMBER', message: `Mailchimp refused ${email}: ${error}` });
        else if (status !== 'subscribed')
          failed.push({
            email,
            code: 'MAILCHIMP.NOT_SUBSCRIBED',
            message: `${email} is ${status ?? 'unknown'} in Mailchimp and cannot receive campaigns.`,
          });
        else eligible.push(email);
      }
    }

    if (options.journey) {
      const { journeyId, stepId } = options.journey;
      const sent: string[] = [];
      await Promise.all(
        eligible.map(async (email) => {
          try {
            await client.triggerJourney(journeyId, stepId, email);
            sent.push(email);
          } catch (error) {
            failed.push({
              email,
              code: isTactfulError(error) ? error.code : 'MAILCHIMP.JOURNEY_FAILED',
              message: error instanceof Error ? error.message : String(error),
            });
          }
        }),
      );
      const order = new Map(eligible.map((e, i) => [e, i]));
      sent.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
      return { campaignId: `journey:${journeyId}:${stepId}`, sent, failed };
    }

    if (eligible.length === 0) return { campaignId: '', sent: [], failed };

    const segmentId = await findOrCreateSegment(title);
    for (const part of chunks(eligible, CHUNK))
      await client.batchSegmentMembers(listId, segmentId, { members_to_add: part });

    const campaign =
      (await findCampaign(title)) ??
      (await client.createCampaign({
        type: 'regular',
        recipients: { list_id: listId, segment_opts: { saved_segment_id: segmentId } },
        settings: {
          subject_line: request.subject,
          from_name: request.sender.name,
          reply_to: request.sender.email,
          title,
        },
      }));
    // The sender's postal address is the audience's contact (`*|LIST:ADDRESSLINE|*`): Mailchimp requires it there.
    await client.setCampaignContent(campaign.id, {
      html: renderCampaignHtml({ storeName: request.sender.name, tags: options.mergeTags }),
    });
    await client.sendCampaign(campaign.id);
    return { campaignId: campaign.id, sent: eligible, failed };
  }

  async function campaignReport(campaignId: string): Promise<CampaignReport> {
    const report = await client.getReport(campaignId);
    return {
      campaignId: report.id,
      sends: report.emails_sent,
      opens: report.opens?.unique_opens ?? 0,
      clicks: report.clicks?.unique_subscriber_clicks ?? report.clicks?.unique_clicks ?? 0,
      unsubscribes: report.unsubscribed,
    };
  }

  /**
   * A test email to the shop's own address, the way an owner sends one from Mailchimp: a draft campaign on the
   * audience holding this one email's values (filled in, not merge fields: the owner is usually not a member),
   * Mailchimp's "send a test" to the address, then the draft is deleted. No member is written, nobody in the
   * audience gets it, and Mailchimp's reports never count it.
   */
  async function sendTest(request: TestEmailRequest): Promise<{ testId: string }> {
    if (!request.to.includes('@'))
      throw new TactfulError('MAILCHIMP.INVALID_EMAIL', `A test email needs an address to go to, not "${request.to}".`);
    const fields = campaignFieldsFor(request.content, options.mergeTags);
    const html = renderMergeTags(
      renderCampaignHtml({ storeName: request.sender.name, tags: options.mergeTags, note: request.note }),
      {
        merge: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, escapeHtml(deps.sanitise(v))])),
        system: {},
      },
    );
    const campaign = await client.createCampaign({
      type: 'regular',
      recipients: { list_id: listId },
      settings: {
        subject_line: request.subject,
        from_name: request.sender.name,
        reply_to: request.sender.email,
        title: `tactful-test:${randomBytes(6).toString('hex')}`,
      },
    });
    try {
      await client.setCampaignContent(campaign.id, { html });
      await client.sendTestEmail(campaign.id, { test_emails: [request.to], send_type: 'html' });
    } finally {
      await client.deleteCampaign(campaign.id).catch(() => undefined);
    }
    return { testId: campaign.id };
  }

  /** Who opened and who clicked: the campaign's email activity, a page of 1 000 recipients at a time. */
  async function campaignActivity(campaignId: string): Promise<CampaignActivity> {
    const opened: string[] = [];
    const clicked: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await client.listEmailActivity(campaignId, { count: 1000, offset });
      for (const e of page.emails) {
        if (e.activity.some((a) => a.action === 'open')) opened.push(normaliseEmail(e.email_address));
        if (e.activity.some((a) => a.action === 'click')) clicked.push(normaliseEmail(e.email_address));
      }
      if (page.emails.length === 0 || offset + 1000 >= page.total_items) break;
    }
    return { opened, clicked };
  }

  return { ensureMergeFields, sendCampaign, campaignReport, campaignActivity, sendTest };
}
