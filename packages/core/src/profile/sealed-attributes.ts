/**
 * Attribute values are sealed with the subject's data key (erasing the key shreds them); only coarse derived
 * values that segments filter on in SQL are plain, and the sealed attributes segments compare for equality
 * get a keyed hash (see the comment on `profiles` in store/schema.ts).
 */
import { hmac } from '../crypto/cipher.js';
import { openForSubject, sealForSubject, type ShopKeys } from '../store/keyring.js';
import type { profiles } from '../store/schema.js';
import { ageAt } from './ages.js';
import { sealedAttributes, type ProfileAttributeName, type ProfileAttributes } from './attributes.js';

/** The normalised form of a value before it is blind-indexed (segments normalise their operand the same way). */
export function normaliseForIndex(value: string): string {
  return value.trim().toLowerCase().normalize('NFC');
}

export function attributeIndex(shopKeys: ShopKeys, name: string, value: string): string {
  return hmac(shopKeys.indexKey, `attr:${name}:${normaliseForIndex(value)}`).toString('hex');
}

type ProfileRow = typeof profiles.$inferSelect;

/** The plain, derived columns of a profile from its attributes. */
export function derivedColumns(shopKeys: ShopKeys, attrs: ProfileAttributes, at: Date) {
  const text = (name: ProfileAttributeName) => {
    const v = attrs[name]?.value;
    return typeof v === 'string' ? v : null;
  };
  const birth = text('birthDate');
  const age = birth ? ageAt(birth, at) : null;
  const attrIndex: Record<string, string> = {};
  for (const name of sealedAttributes) {
    const v = text(name);
    if (v) attrIndex[name] = attributeIndex(shopKeys, name, v);
  }
  const interests = attrs.interests?.value;
  return {
    attrIndex,
    attrKeys: Object.keys(attrs).sort(),
    gender: text('gender'),
    age: age?.age ?? null,
    ageValidUntil: age?.validUntil ?? null,
    country: text('country'),
    region: text('region'),
    interests: Array.isArray(interests) ? interests : [],
  };
}

export function sealAttributes(key: Buffer, shopId: string, subjectId: string, attrs: ProfileAttributes): Buffer {
  return sealForSubject(key, shopId, subjectId, 'profile', JSON.stringify(attrs));
}

export function openAttributes(
  key: Buffer | null,
  row: Pick<ProfileRow, 'shopId' | 'subjectId' | 'attrsEnc'>,
): ProfileAttributes {
  if (!key || !row.attrsEnc) return {};
  return JSON.parse(openForSubject(key, row.shopId, row.subjectId, 'profile', row.attrsEnc)) as ProfileAttributes;
}
