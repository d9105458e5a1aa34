/**
 * What the adapter last pushed for each member, so an unchanged audience makes no write call. Keys are
 * normalised emails; values are opaque strings (a hash plus the Tactful-managed tags). Persist it by
 * passing your own implementation; the default lives in memory and is lost on restart (the next sync
 * then re-sends everything once, which is safe: the batch endpoint is idempotent).
 */
export interface MemberHashStore {
  get(email: string): Promise<string | null>;
  setMany(entries: Array<[email: string, value: string]>): Promise<void>;
  /** Optional bulk read; used when present. */
  getMany?(emails: string[]): Promise<Map<string, string>>;
}

export function createMemoryHashStore(): MemberHashStore & { readonly size: number } {
  const values = new Map<string, string>();
  return {
    get size() {
      return values.size;
    },
    async get(email) {
      return values.get(email) ?? null;
    },
    async getMany(emails) {
      const out = new Map<string, string>();
      for (const email of emails) {
        const value = values.get(email);
        if (value !== undefined) out.set(email, value);
      }
      return out;
    },
    async setMany(entries) {
      for (const [email, value] of entries) {
        if (value === '') values.delete(email);
        else values.set(email, value);
      }
    },
  };
}
