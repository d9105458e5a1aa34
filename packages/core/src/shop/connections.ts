/**
 * The shop's connections to other systems made from the admin (Mailchimp today): the secrets (API keys, webhook
 * tokens) sealed under a key derived from the shop's key, the rest (audience, webhook id, when) in clear. A
 * secret is never returned to a page: only its last four characters. Every change is audited, without the secret.
 */
import { z } from 'zod';
import type { Actor } from '../audit/log.js';
import { appendAudit } from '../audit/log.js';
import { decrypt, deriveKey, encrypt } from '../crypto/cipher.js';
import { TactfulError } from '../errors/tactful-error.js';
import { keyValueStore } from '../store/kv.js';
import { withShopTransaction, type ShopContext } from './context.js';

/** A non-secret detail of a connection (an audience id, a webhook id, whether merge fields were ensured). */
export type ConnectionDetail = string | number | boolean | null;

/** A connection as pages may show it: never its secrets, only their last four characters. */
export interface ConnectionView {
  system: string;
  /** The last four characters of each secret, by name (`{ apiKey: "us21" }`). */
  hints: Record<string, string>;
  details: Record<string, ConnectionDetail>;
  connectedAt: Date;
  updatedAt: Date;
}

export interface ConnectionInput {
  /** Replaces every secret of the connection when given (sealed); omitted keeps the stored ones. */
  secrets?: Record<string, string> | undefined;
  /** Merged into the stored details (a null value is kept as null). */
  details?: Record<string, ConnectionDetail> | undefined;
}

const systemName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'a system is named in lower-case letters, digits, _ or - (e.g. mailchimp)');

const stored = z.object({
  v: z.literal(1),
  sealed: z.string(),
  hints: z.record(z.string(), z.string()),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  connectedAt: z.string(),
  updatedAt: z.string(),
});

const keyOf = (system: string) => `connection/${system}`;

function checkSystem(system: string): string {
  const parsed = systemName.safeParse(system);
  if (!parsed.success)
    throw new TactfulError('INPUT.INVALID', `"${system}" is not a system name: ${parsed.error.issues[0]?.message}.`);
  return parsed.data;
}

async function sealingKey(ctx: ShopContext): Promise<Buffer> {
  const { shopKey } = await ctx.keys.shop(ctx.db, ctx.shopId);
  return deriveKey(shopKey, 'tactful/connections/v1');
}

async function readStored(ctx: ShopContext, system: string) {
  const raw = await keyValueStore(ctx.db, ctx.shopId).get(keyOf(checkSystem(system)));
  if (raw === null) return null;
  return stored.parse(JSON.parse(raw));
}

function view(system: string, row: z.output<typeof stored>): ConnectionView {
  return {
    system,
    hints: row.hints,
    details: row.details,
    connectedAt: new Date(row.connectedAt),
    updatedAt: new Date(row.updatedAt),
  };
}

export async function readConnection(ctx: ShopContext, system: string): Promise<ConnectionView | null> {
  const row = await readStored(ctx, system);
  return row ? view(system, row) : null;
}

export async function listConnections(ctx: ShopContext): Promise<ConnectionView[]> {
  const kv = keyValueStore(ctx.db, ctx.shopId);
  const out: ConnectionView[] = [];
  for (const key of await kv.list('connection/')) {
    const system = key.slice('connection/'.length);
    const row = await readStored(ctx, system);
    if (row) out.push(view(system, row));
  }
  return out;
}

/** The connection's secrets in clear, for the application to call the system with; null when not connected. */
export async function readConnectionSecrets(ctx: ShopContext, system: string): Promise<Record<string, string> | null> {
  const row = await readStored(ctx, system);
  if (!row) return null;
  const plain = decrypt(await sealingKey(ctx), Buffer.from(row.sealed, 'base64'), `connection:${ctx.shopId}:${system}`);
  return z.record(z.string(), z.string()).parse(JSON.parse(plain.toString('utf8')));
}

const last4 = (value: string) => (value.length <= 4 ? '' : value.slice(-4));

/** Creates or changes a connection (secrets sealed, details merged) and audits which fields changed. */
export async function saveConnection(
  ctx: ShopContext,
  system: string,
  input: ConnectionInput,
  actor: Actor,
): Promise<ConnectionView> {
  const name = checkSystem(system);
  const current = await readStored(ctx, name);
  if (!current && input.secrets === undefined)
    throw new TactfulError('INPUT.INVALID', `${name} is not connected yet: give its credentials first.`);
  for (const [key, value] of Object.entries(input.secrets ?? {}))
    if (typeof value !== 'string' || value === '')
      throw new TactfulError('INPUT.INVALID', `The secret "${key}" of ${name} is empty.`);
  const at = ctx.now().toISOString();
  const sealed =
    input.secrets === undefined
      ? current!.sealed
      : encrypt(await sealingKey(ctx), JSON.stringify(input.secrets), `connection:${ctx.shopId}:${name}`).toString(
          'base64',
        );
  const hints =
    input.secrets === undefined
      ? current!.hints
      : Object.fromEntries(Object.entries(input.secrets).map(([k, v]) => [k, last4(v)]));
  const next: z.output<typeof stored> = {
    v: 1,
    sealed,
    hints,
    details: { ...(current?.details ?? {}), ...(input.details ?? {}) },
    connectedAt: current?.connectedAt ?? at,
    updatedAt: at,
  };
  await withShopTransaction(ctx, actor, async (s) => {
    await keyValueStore(s.tx, ctx.shopId).set(keyOf(name), JSON.stringify(next));
    await appendAudit(s.tx, ctx.shopId, s.head, {
      action: 'connection.changed',
      actor,
      at: s.recordedAt,
      details: {
        system: name,
        change: current ? 'updated' : 'connected',
        secrets: input.secrets === undefined ? [] : Object.keys(input.secrets),
        fields: Object.keys(input.details ?? {}),
      },
    });
  });
  return view(name, next);
}

/** Forgets a connection and its secrets (audited); nothing when there was none. */
export async function removeConnection(ctx: ShopContext, system: string, actor: Actor): Promise<void> {
  const name = checkSystem(system);
  if (!(await readStored(ctx, name))) return;
  await withShopTransaction(ctx, actor, async (s) => {
    await keyValueStore(s.tx, ctx.shopId).delete(keyOf(name));
    await appendAudit(s.tx, ctx.shopId, s.head, {
      action: 'connection.changed',
      actor,
      at: s.recordedAt,
      details: { system: name, change: 'disconnected' },
    });
  });
}
