import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { parseOrThrow } from '../errors/zod.js';
import type { Db } from '../store/open.js';
import { shops } from '../store/schema.js';

/** Per-shop settings, kept in `shops.settings` and validated on every read and write. */
export const shopSettings = z
  .object({
    /** Mail only people who confirmed by double opt-in. */
    requireDoubleOptIn: z.boolean().default(true),
    /** Systems that must learn of every consent change (outbox targets): `shopify`, `mailchimp`, ... */
    connectedSystems: z.array(z.string().min(1)).default([]),
    /** How long a double opt-in link stays valid. */
    optInTokenTtlHours: z
      .number()
      .positive()
      .max(24 * 30)
      .default(48),
    /**
     * Catalogue categories the shop treats as sensitive (health, intimate items, ...): purchases in them are never
     * a basis or a stated reason for a recommendation unless the customer opted in to exactly that category.
     */
    sensitiveCategories: z.array(z.string().trim().min(1).max(200)).max(500).default([]),
    /** The shop's currency (ISO 4217): every amount shown in emails, the admin and the CLI carries it. */
    currency: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{3}$/, 'the currency is a three-letter ISO 4217 code such as USD or EUR')
      .default('USD'),
    /** Who campaigns are from: the name shown, the reply address, and the postal address every email carries. */
    sender: z
      .object({
        name: z.string().trim().min(1, 'the sender name is empty').max(100),
        email: z.email({ message: 'the sender reply address is not an email address' }),
        postalAddress: z
          .string()
          .trim()
          .min(5, 'a postal address is required by anti-spam law (CAN-SPAM, ePrivacy)')
          .max(300),
      })
      .strict()
      .optional(),
    /**
     * How the customers' pages (preference centre, confirmation, unsubscribe, privacy) show the shop: its name,
     * a logo (an https URL, or none) and an accent colour (#rrggbb, or none for the default).
     */
    brand: z
      .object({
        name: z
          .string()
          .trim()
          .min(1, 'the shop name is empty')
          .max(100, 'the shop name is longer than 100 characters'),
        logoUrl: z
          .string()
          .trim()
          .max(2000, 'the logo URL is longer than 2000 characters')
          .refine(isHttpsUrl, 'the logo URL must start with https:// (or be left empty for no logo)')
          .nullable()
          .default(null),
        accentColor: z
          .string()
          .trim()
          .regex(/^#[0-9a-fA-F]{6}$/, 'the accent colour must be written #rrggbb, e.g. #1a7f5a')
          .transform((c) => c.toLowerCase())
          .nullable()
          .default(null),
      })
      .strict()
      .optional(),
    /**
     * What the shop never recommends and what it favours (recommend/merchandising.ts): honoured by every
     * recommendation, whoever asks for it.
     */
    merchandising: z
      .object({
        /** Products never recommended (ids of the catalogue). */
        excludedProducts: z.array(z.string().min(1).max(500)).max(5000).default([]),
        /** Catalogue categories never recommended (compared case-insensitively). */
        excludedCategories: z.array(z.string().trim().min(1).max(200)).max(500).default([]),
        /** Products favoured, first first: they lead a list they are eligible for. */
        pinnedProducts: z.array(z.string().min(1).max(500)).max(50).default([]),
      })
      .strict()
      .default({ excludedProducts: [], excludedCategories: [], pinnedProducts: [] }),
  })
  .strict();

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '' && !/\s/.test(value);
  } catch {
    return false;
  }
}
export type ShopSettings = z.output<typeof shopSettings>;
export type ShopSettingsInput = z.input<typeof shopSettings>;

export async function readShopSettings(db: Db, shopId: string): Promise<ShopSettings> {
  const [row] = await db.select({ settings: shops.settings }).from(shops).where(eq(shops.shopId, shopId));
  return shopSettings.parse(row?.settings ?? {});
}

export async function writeShopSettings(db: Db, shopId: string, patch: ShopSettingsInput): Promise<ShopSettings> {
  const current = await readShopSettings(db, shopId);
  const next = parseOrThrow(shopSettings, { ...current, ...patch }, 'CONFIG.INVALID', 'shop settings');
  await db.update(shops).set({ settings: next }).where(eq(shops.shopId, shopId));
  return next;
}
