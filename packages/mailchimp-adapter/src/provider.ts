import { createHash } from 'node:crypto';
import type {
  ConsentPush,
  EmailProvider,
  InboundEvent,
  MemberChange,
  MemberRecord,
  Page,
  PageRequest,
  PushResult,
} from '@tactful/core';
import { TactfulError, isTactfulError } from '@tactful/core';
import { createMailchimpClient, type MailchimpClient } from './client.js';
import { parseMailchimpOptions, type MailchimpOptions, type MailchimpOptionsInput } from './options.js';
import type { MailchimpMember } from './schemas.js';
import { normaliseEmail, subscriberHash } from './subscriber-hash.js';
import { createMemoryHashStore, type MemberHashStore } from './sync/hash-store.js';
import { mapConsentToStatus, memberToConsent } from './sync/status-mapping.js';
import { createJourneyTrigger } from './campaign/journey.js';
import { createCampaignSender } from './campaign/send.js';

export const MAILCHIMP_MAX_BATCH = 500;
const PAGE_MAX = 1000;
/** Mailchimp statuses in which a non-first-party grant must not produce `subscribed`. */
const heldStatuses: readonly string[] = ['unsubscribed', 'cleaned', 'pending'];
const emailPattern = /^[^\s@"<>()[\],;:]+@[^\s@"<>()[\],;:]+\.[^\s@"<>()[\],;:]{2,}$/;

export interface MailchimpRuntime {
  /** Where the adapter remembers what it last pushed per member (default: in memory). */
  hashStore?: MemberHashStore;
  /** Backoff waits (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
  /** Clock for the compliance-index refresh window. */
  now?: () => Date;
}

export interface MailchimpProvider extends EmailProvider {
  readonly system: 'mailchimp';
  readonly options: Readonly<MailchimpOptions>;
  sendCampaign: NonNullable<EmailProvider['sendCampaign']>;
  campaignReport: NonNullable<EmailProvider['campaignReport']>;
  /**
   * Sets the member's merge fields to the content, then triggers the Customer Journey step; idempotent on `key`
   * across restarts through a marker merge field (`campaign/journey.ts`). Never subscribes anyone.
   */
  triggerJourney: NonNullable<EmailProvider['triggerJourney']>;
  sendTest: NonNullable<EmailProvider['sendTest']>;
  campaignActivity: NonNullable<EmailProvider['campaignActivity']>;
  /** Makes sure the campaign merge fields exist on the audience (idempotent). */
  ensureCampaignMergeFields(): Promise<string[]>;
  /**
   * The audience's GDPR marketing permissions (id and text), read from a member: Mailchimp lists them
   * nowhere else. Empty when GDPR fields are off or the audience has no member yet.
   */
  listMarketingPermissions(): Promise<Array<{ id: string; text: string }>>;
  /**
   * Checks the connection and the audience, and says what the store owner must still set up (postal
   * address, GDPR mapping, ...). An empty `problems` list means ready to sync and send.
   */
  checkAudience(): Promise<{ audienceName: string; doubleOptIn: boolean; gdprFields: boolean; problems: string[] }>;
  /** Registers the Tactful webhook on the audience with sources { user, admin } and not api. */
  registerWebhook(url: string): Promise<{ id: string }>;
}

/** What the adapter remembers per member: the last status it sent, a hash of the fields, the tags it manages. */
interface SentRecord {
  s?: string | undefined;
  /** occurredAt (ms) of the consent event behind `s`. */
  e?: number | undefined;
  f?: string | undefined;
  t?: string[] | undefined;
}

function parseRecord(value: string | null | undefined): SentRecord {
  if (!value) return {};
  try {
    return JSON.parse(value) as SentRecord;
  } catch {
    return {};
  }
}

function fieldsHash(fields: Record<string, string>): string {
  const sorted = Object.keys(fields)
    .sort()
    .map((k) => [k, fields[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('base64url').slice(0, 22);
}

/** Merge values travel as Mailchimp merge tags; strip what could inject markup or other merge tags. */
export function sanitiseMergeValue(value: string): string {
  return value.replace(/\*\|/g, '').replace(/\|\*/g, '').replace(/[<>]/g, '');
}

function toMemberRecord(member: MailchimpMember, purpose: string): MemberRecord {
  const mergeFields: Record<string, string> = {};
  for (const [k, v] of Object.entries(member.merge_fields ?? {})) {
    if (typeof v === 'string' || typeof v === 'number') mergeFields[k] = String(v);
  }
  return {
    email: normaliseEmail(member.email_address),
    status: member.status,
    consent: memberToConsent(member, purpose),
    mergeFields,
    tags: (member.tags ?? []).map((t) => t.name),
    updatedAt: new Date(member.last_changed),
    ...(optedIn(member) ? { optIn: { at: optedIn(member)!, ip: member.ip_opt || null } } : {}),
  };
}

/** Mailchimp's `timestamp_opt`: when the member opted in (empty for someone who never did). */
function optedIn(member: MailchimpMember): Date | null {
  const at = member.timestamp_opt ? new Date(member.timestamp_opt) : null;
  return at && !Number.isNaN(at.getTime()) ? at : null;
}

/**
 * Reconciliation: a member as Mailchimp holds it, as the inbound event Tactful folds. `cleaned` is an
 * undeliverable address, not a withdrawal of consent.
 */
export function memberToInboundEvent(member: MemberRecord): InboundEvent {
  if (member.status === 'cleaned') {
    return { kind: 'undeliverable', email: member.email, reason: 'cleaned', occurredAt: member.updatedAt };
  }
  return { kind: 'consent', consent: member.consent };
}

interface Cursor {
  o: number;
  s?: string | undefined;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(value: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Cursor;
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed;
  } catch {
    // fall through
  }
  throw new TactfulError(
    'MAILCHIMP.BAD_CURSOR',
    'The page cursor is not one this adapter produced; start again without a cursor.',
  );
}

export function createMailchimpProvider(
  input: MailchimpOptionsInput,
  runtime: MailchimpRuntime = {},
): MailchimpProvider {
  const options = parseMailchimpOptions(input);
  const client: MailchimpClient = createMailchimpClient({
    apiKey: options.apiKey,
    accessToken: options.accessToken,
    server: options.server,
    baseUrl: options.baseUrl,
    maxConnections: options.maxConnections,
    timeoutMs: options.timeoutMs,
    retry: options.retry,
    sleep: runtime.sleep,
  });
  const hashStore = runtime.hashStore ?? createMemoryHashStore();
  const now = runtime.now ?? (() => new Date());
  const listId = options.audienceId;

  // Members Mailchimp holds as unsubscribed or cleaned ("compliance state") or pending (awaiting their own
  // confirmation): a grant that is not fresh first-party consent must not make them subscribed.
  const complianceIndex = new Map<string, string>();
  let complianceRefreshedAt: Date | null = null;

  async function pageAll(
    query: { status: string; since_last_changed?: string },
    onMember: (m: MailchimpMember) => void,
  ) {
    for (let offset = 0; ; offset += PAGE_MAX) {
      const page = await client.listMembers(listId, { count: PAGE_MAX, offset, ...query });
      for (const m of page.members) onMember(m);
      if (page.members.length < PAGE_MAX || offset + PAGE_MAX >= page.total_items) return;
    }
  }

  /**
   * Learns who entered compliance state since the last look (two small filtered listings). Entries may
   * go stale when someone re-subscribes in Mailchimp; `confirmCompliance` re-reads those few members
   * before a grant is decided, so a stale entry never decides anything.
   */
  async function refreshComplianceIndex() {
    const startedAt = now();
    // Overlap the window: Mailchimp's last_changed has second precision and clocks drift.
    const since =
      complianceRefreshedAt === null ? undefined : new Date(complianceRefreshedAt.getTime() - 5 * 60_000).toISOString();
    for (const status of heldStatuses) {
      await pageAll({ status, ...(since ? { since_last_changed: since } : {}) }, (m) => {
        if (heldStatuses.includes(m.status)) complianceIndex.set(normaliseEmail(m.email_address), m.status);
      });
    }
    complianceRefreshedAt = startedAt;
  }

  async function confirmCompliance(emails: string[]) {
    await Promise.all(
      emails.map(async (email) => {
        const member = await client.getMember(listId, subscriberHash(email));
        if (member && heldStatuses.includes(member.status)) complianceIndex.set(email, member.status);
        else complianceIndex.delete(email);
      }),
    );
  }

  /**
   * An address change: PATCH the member under the old address's hash with the new `email_address`. Status,
   * history and fields stay; nobody is added or resubscribed. No member under the old address: nothing to follow.
   */
  async function moveMember(change: MemberChange & { newEmail: string }): Promise<PushResult> {
    const from = normaliseEmail(change.email);
    const to = normaliseEmail(change.newEmail);
    for (const email of [from, to])
      if (!emailPattern.test(email))
        return {
          email: from,
          ok: false,
          code: 'MAILCHIMP.INVALID_EMAIL',
          message: `${email} is not a valid email address; fix it at the source.`,
          retryable: false,
        };
    if (from === to) return { email: from, ok: true };
    try {
      await client.patchMember(listId, subscriberHash(from), { email_address: to });
    } catch (error) {
      if (isTactfulError(error) && error.status === 404) return { email: from, ok: true };
      if (isTactfulError(error) && error.status === 400 && /already a list member|member exists/i.test(error.message))
        return {
          email: from,
          ok: false,
          code: 'MAILCHIMP.ADDRESS_TAKEN',
          message: `Mailchimp already holds another member at the new address; the member under ${from} was not moved. Merge or remove one of them in Mailchimp.`,
          retryable: false,
        };
      const e = error as TactfulError;
      return {
        email: from,
        ok: false,
        code: e.code ?? 'MAILCHIMP.MEMBER_REJECTED',
        message: e.message,
        retryable: isTactfulError(e) ? e.retryable : true,
      };
    }
    // What was last pushed for the member follows it to its new address.
    const record = await hashStore.get(from);
    if (record) await hashStore.setMany([[to, record]]);
    const held = complianceIndex.get(from);
    complianceIndex.delete(from);
    if (held) complianceIndex.set(to, held);
    return { email: from, ok: true };
  }

  async function pushMembers(changes: MemberChange[]): Promise<PushResult[]> {
    if (changes.length > MAILCHIMP_MAX_BATCH) {
      throw new TactfulError(
        'MAILCHIMP.BATCH_TOO_LARGE',
        `pushMembers takes at most ${MAILCHIMP_MAX_BATCH} changes a call (got ${changes.length}); split the batch.`,
      );
    }
    // Address changes go first, one call each, so the batch's other changes find the member at its new address.
    const moved = new Map<number, PushResult>();
    for (const [index, change] of changes.entries())
      if (change.newEmail !== undefined) moved.set(index, await moveMember({ ...change, newEmail: change.newEmail }));
    if (moved.size === 0) return pushOthers(changes);
    const rest = changes.filter((c) => c.newEmail === undefined);
    const restResults = rest.length > 0 ? await pushOthers(rest) : [];
    let next = 0;
    return changes.map((_, index) => moved.get(index) ?? restResults[next++]!);
  }

  async function pushOthers(changes: MemberChange[]): Promise<PushResult[]> {
    const results: Array<PushResult | undefined> = new Array(changes.length);
    const emails = changes.map((c) => normaliseEmail(c.email));
    const unique = [...new Set(emails)];
    const stored = hashStore.getMany
      ? await hashStore.getMany(unique)
      : new Map(
          (await Promise.all(unique.map(async (e) => [e, await hashStore.get(e)] as const))).filter(
            (e): e is [string, string] => e[1] !== null,
          ),
        );
    const previous = new Map(unique.map((e) => [e, parseRecord(stored.get(e))]));

    interface Plan {
      email: string;
      indices: number[];
      erase: boolean;
      grant?: ConsentPush | undefined;
      status?: 'subscribed' | 'pending' | 'unsubscribed' | undefined;
      occurredAt?: number | undefined;
      fields?: Record<string, string> | undefined;
      tags?: string[] | undefined;
      permissions: Array<{ marketing_permission_id: string; enabled: boolean }>;
      failure?: { code: string; message: string; retryable: boolean } | undefined;
      /** No change of this member carries consent: fields and tags of an existing member only. */
      fieldsOnly: boolean;
    }
    const plans = new Map<string, Plan>();
    changes.forEach((change, index) => {
      const email = emails[index] ?? '';
      const plan = plans.get(email) ?? { email, indices: [], erase: false, permissions: [], fieldsOnly: true };
      plans.set(email, plan);
      plan.indices.push(index);
      if (!emailPattern.test(email)) {
        plan.failure = {
          code: 'MAILCHIMP.INVALID_EMAIL',
          message: `${change.email} is not a valid email address; fix it at the source.`,
          retryable: false,
        };
        return;
      }
      if (change.consent && 'erased' in change.consent) {
        Object.assign(plan, {
          erase: true,
          grant: undefined,
          status: undefined,
          fields: undefined,
          tags: undefined,
          permissions: [],
          fieldsOnly: false,
        });
        return;
      }
      const push = change.consent;
      if (push) plan.fieldsOnly = false;
      if (push && push.purpose === options.statusPurpose) {
        plan.occurredAt = push.occurredAt.getTime();
        // Grants and pending both depend on Mailchimp's current status (compliance state, pending).
        if (push.state === 'granted' || push.state === 'pending') plan.grant = push;
        else {
          plan.grant = undefined;
          const decision = mapConsentToStatus(
            { ...push, email },
            { requireDoubleOptIn: options.requireDoubleOptIn, mailchimpStatus: null },
          );
          plan.status = decision.kind === 'status' ? decision.status : undefined;
        }
      }
      const permissionId = push ? options.marketingPermissions[push.purpose] : undefined;
      if (push && permissionId !== undefined && push.state !== 'none' && push.state !== 'pending') {
        plan.permissions = [
          ...plan.permissions.filter((p) => p.marketing_permission_id !== permissionId),
          { marketing_permission_id: permissionId, enabled: push.state === 'granted' },
        ];
      }
      if (change.mergeFields) {
        const fields: Record<string, string> = { ...plan.fields };
        for (const [k, v] of Object.entries(change.mergeFields)) fields[k.toUpperCase()] = sanitiseMergeValue(v);
        plan.fields = fields;
      }
      if (change.tags) plan.tags = [...new Set(change.tags)].sort();
    });

    // Grants need Mailchimp's current status: never `subscribed` for someone in compliance state.
    const grants = [...plans.values()].filter((p) => p.grant && !p.failure && !p.erase);
    const unchanged = (plan: Plan) => {
      const before = previous.get(plan.email);
      const sentStatus = plan.grant?.state === 'pending' ? 'pending' : 'subscribed';
      return before?.s === sentStatus && before.e === plan.grant?.occurredAt.getTime();
    };
    const toDecide = grants.filter((p) => !unchanged(p));
    if (toDecide.length > 0) {
      await refreshComplianceIndex();
      await confirmCompliance(toDecide.map((p) => p.email).filter((e) => complianceIndex.has(e)));
    }
    for (const plan of grants) {
      const grant = plan.grant;
      if (!grant) continue;
      if (unchanged(plan)) {
        plan.status = grant.state === 'pending' ? 'pending' : 'subscribed';
        continue;
      }
      const known =
        complianceIndex.get(plan.email) ?? (previous.get(plan.email)?.s === 'subscribed' ? 'subscribed' : null);
      const decision = mapConsentToStatus(
        { ...grant, email: plan.email },
        { requireDoubleOptIn: options.requireDoubleOptIn, mailchimpStatus: known },
      );
      if (decision.kind === 'refuse')
        plan.failure = { code: decision.code, message: decision.message, retryable: false };
      else if (decision.kind === 'status') plan.status = decision.status;
    }

    // Diff against what was last pushed: only changed members are written.
    const batch: Array<{ plan: Plan; body: Record<string, unknown> }> = [];
    const removals = new Map<string, string[]>();
    const patches: Plan[] = [];
    const erasures: Plan[] = [];
    const next = new Map<string, SentRecord>();
    for (const plan of plans.values()) {
      if (plan.failure) continue;
      const before = previous.get(plan.email) ?? {};
      if (plan.erase) {
        if (before.s !== 'erased') erasures.push(plan);
        continue;
      }
      const record: SentRecord = { ...before };
      const body: Record<string, unknown> = { email_address: plan.email };
      let send = false;
      // A status goes out when it differs from the last one sent, or when it comes from a newer event
      // (Mailchimp may have changed in between: a later withdrawal must reach it even if we sent one before).
      if (plan.status !== undefined && (plan.status !== before.s || plan.occurredAt !== before.e)) {
        body.status = plan.status;
        record.s = plan.status;
        record.e = plan.occurredAt;
        send = true;
      }
      if (plan.fields !== undefined) {
        const h = fieldsHash(plan.fields);
        if (h !== before.f) {
          body.merge_fields = plan.fields;
          record.f = h;
          send = true;
        }
      }
      if (plan.tags !== undefined) {
        const had = before.t ?? [];
        const added = plan.tags.filter((t) => !had.includes(t));
        const dropped = had.filter((t) => !plan.tags?.includes(t));
        if (added.length > 0) {
          body.tags = plan.tags;
          send = true;
        }
        for (const tag of dropped) removals.set(tag, [...(removals.get(tag) ?? []), plan.email]);
        record.t = plan.tags;
      }
      if (send) batch.push({ plan, body });
      if (plan.permissions.length > 0) patches.push(plan);
      next.set(plan.email, record);
    }

    const failed = new Map<string, { code: string; message: string; retryable: boolean }>();
    for (const plan of plans.values()) if (plan.failure) failed.set(plan.email, plan.failure);

    if (batch.length > 0) {
      const response = await client.batchMembers(listId, { members: batch.map((b) => b.body), update_existing: true });
      for (const m of [...response.new_members, ...response.updated_members]) {
        const email = normaliseEmail(m.email_address);
        if (heldStatuses.includes(m.status)) complianceIndex.set(email, m.status);
        else complianceIndex.delete(email);
      }
      for (const error of response.errors) {
        const email = normaliseEmail(error.email_address);
        const text = error.error;
        // A correction of fields for someone the audience does not hold: nothing to correct there, no member is added.
        if (plans.get(email)?.fieldsOnly && /status/i.test(text)) {
          next.delete(email);
          continue;
        }
        const code = /compliance state/i.test(text)
          ? 'MAILCHIMP.COMPLIANCE_STATE'
          : /permanently deleted|re-import/i.test(text)
            ? 'MAILCHIMP.FORGOTTEN'
            : /invalid|fake/i.test(text)
              ? 'MAILCHIMP.INVALID_EMAIL'
              : 'MAILCHIMP.MEMBER_REJECTED';
        if (code === 'MAILCHIMP.COMPLIANCE_STATE') complianceIndex.set(email, 'unsubscribed');
        // A refusal Mailchimp explains (compliance state, forgotten, invalid address) is final; any other
        // per-member error may be transient ("an unexpected internal error"), and a withdrawal must not be
        // dropped on the first one: it is retried, with backoff, until the outbox gives up on it.
        failed.set(email, {
          code,
          message: `Mailchimp refused ${email}: ${text}`,
          retryable: code === 'MAILCHIMP.MEMBER_REJECTED',
        });
      }
    }

    if (removals.size > 0) {
      const segments = new Map<string, number>();
      for (let offset = 0; ; offset += PAGE_MAX) {
        const page = await client.listSegments(listId, { type: 'static', count: PAGE_MAX, offset });
        for (const s of page.segments) segments.set(s.name, s.id);
        if (offset + PAGE_MAX >= page.total_items) break;
      }
      for (const [tag, members] of removals) {
        const id = segments.get(tag);
        const targets = members.filter((e) => !failed.has(e));
        if (id === undefined || targets.length === 0) continue;
        try {
          await client.batchSegmentMembers(listId, id, { members_to_remove: targets });
        } catch (error) {
          const e = error as TactfulError;
          for (const email of targets)
            failed.set(email, {
              code: e.code ?? 'MAILCHIMP.TAG_REMOVAL_FAILED',
              message: e.message,
              retryable: isTactfulError(e) ? e.retryable : true,
            });
        }
      }
    }

    await Promise.all([
      ...patches
        .filter((p) => !failed.has(p.email))
        .map(async (plan) => {
          try {
            await client.patchMember(listId, subscriberHash(plan.email), { marketing_permissions: plan.permissions });
          } catch (error) {
            const e = error as TactfulError;
            failed.set(plan.email, {
              code: e.code ?? 'MAILCHIMP.PERMISSIONS_FAILED',
              message: e.message,
              retryable: isTactfulError(e) ? e.retryable : true,
            });
          }
        }),
      ...erasures.map(async (plan) => {
        try {
          await client.deleteMemberPermanent(listId, subscriberHash(plan.email));
          complianceIndex.delete(plan.email);
          next.set(plan.email, { s: 'erased' });
        } catch (error) {
          const e = error as TactfulError;
          failed.set(plan.email, {
            code: e.code ?? 'MAILCHIMP.ERASE_FAILED',
            message: e.message,
            retryable: isTactfulError(e) ? e.retryable : true,
          });
        }
      }),
    ]);

    const toStore: Array<[string, string]> = [];
    for (const [email, record] of next) if (!failed.has(email)) toStore.push([email, JSON.stringify(record)]);
    if (toStore.length > 0) await hashStore.setMany(toStore);

    for (const plan of plans.values()) {
      const failure = failed.get(plan.email);
      for (const index of plan.indices) {
        results[index] = failure ? { email: plan.email, ok: false, ...failure } : { email: plan.email, ok: true };
      }
    }
    return results.map(
      (r, i) =>
        r ?? {
          email: emails[i] ?? '',
          ok: false,
          code: 'MAILCHIMP.INTERNAL',
          message: 'no result computed',
          retryable: true,
        },
    );
  }

  async function listMembers(
    request: PageRequest & { changedSince?: Date | undefined } = {},
  ): Promise<Page<MemberRecord>> {
    const cursor: Cursor = request.cursor
      ? decodeCursor(request.cursor)
      : { o: 0, s: request.changedSince?.toISOString() };
    const count = Math.max(1, Math.min(request.limit ?? 500, PAGE_MAX));
    const page = await client.listMembers(listId, { count, offset: cursor.o, since_last_changed: cursor.s });
    const items = page.members.map((m) => toMemberRecord(m, options.statusPurpose));
    const nextOffset = cursor.o + page.members.length;
    return {
      items,
      nextCursor:
        page.members.length > 0 && nextOffset < page.total_items
          ? encodeCursor({ o: nextOffset, s: cursor.s })
          : undefined,
    };
  }

  async function getMember(email: string): Promise<MemberRecord | null> {
    const member = await client.getMember(listId, subscriberHash(email));
    return member ? toMemberRecord(member, options.statusPurpose) : null;
  }

  const campaigns = createCampaignSender({ client, options, sanitise: sanitiseMergeValue });
  const journeys = createJourneyTrigger({
    client,
    options,
    sanitise: sanitiseMergeValue,
    ensureMergeFields: campaigns.ensureMergeFields,
  });

  return {
    system: 'mailchimp',
    options,
    capabilities: {
      campaigns: true,
      reports: true,
      webhooks: true,
      maxBatch: MAILCHIMP_MAX_BATCH,
      memberOptIn: true,
      journeys: true,
    },
    pushMembers,
    listMembers,
    getMember,
    sendCampaign: campaigns.sendCampaign,
    campaignReport: campaigns.campaignReport,
    triggerJourney: journeys.triggerJourney,
    sendTest: campaigns.sendTest,
    campaignActivity: campaigns.campaignActivity,
    ensureCampaignMergeFields: () => campaigns.ensureMergeFields(),
    async checkAudience() {
      const list = await client.getList(listId);
      const problems: string[] = [];
      if (!list.contact?.address1) {
        problems.push(
          'The audience has no postal address: fill in Audience → Settings → Audience name and defaults → contact information. Mailchimp will not send a campaign without it.',
        );
      }
      if (list.marketing_permissions === true && Object.keys(options.marketingPermissions).length === 0) {
        problems.push(
          'The audience has GDPR fields, but no purpose is mapped to a marketing permission: set marketingPermissions (listMarketingPermissions() shows the ids).',
        );
      }
      if (options.requireDoubleOptIn && list.double_optin === false) {
        problems.push(
          "Tactful requires double opt-in but the audience's own sign-up form does not: enable double opt-in in Audience name and defaults, so people who join through Mailchimp confirm too.",
        );
      }
      return {
        audienceName: list.name,
        doubleOptIn: list.double_optin ?? false,
        gdprFields: list.marketing_permissions ?? false,
        problems,
      };
    },
    async listMarketingPermissions() {
      const page = await client.listMembers(listId, { count: 1, offset: 0 });
      return (page.members[0]?.marketing_permissions ?? []).map((p) => ({
        id: p.marketing_permission_id,
        text: p.text ?? '',
      }));
    },
    async registerWebhook(url: string) {
      const hook = await client.createWebhook(listId, {
        url,
        events: { subscribe: true, unsubscribe: true, profile: true, cleaned: true, upemail: true, campaign: true },
        sources: { user: true, admin: true, api: false },
      });
      return { id: hook.id };
    },
  };
}
