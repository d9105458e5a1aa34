import { expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore, rows } from '../store/open.js';

const KEY = '0123456789abcdef0123456789abcdef-us21';
const admin = { type: 'admin' as const, id: 'test' };

describeEachStore('connections', (getStore) => {
  it('a secret is stored sealed, shown only by its last four characters, read back in clear for the app, audited without it', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop('conn') });
    expect(await t.connections.get('mailchimp')).toBeNull();
    const saved = await t.connections.save(
      'mailchimp',
      { secrets: { apiKey: KEY, webhookSecret: 'w'.repeat(40) }, details: { audienceId: 'list1' } },
      admin,
    );
    expect(saved.hints).toEqual({ apiKey: 'us21', webhookSecret: 'wwww' });
    expect(JSON.stringify(await t.connections.get('mailchimp'))).not.toContain(KEY);
    expect(await t.connections.secrets('mailchimp')).toEqual({ apiKey: KEY, webhookSecret: 'w'.repeat(40) });
    // Details merge; secrets stay when not given.
    await t.connections.save('mailchimp', { details: { webhookId: 'wh1' } }, admin);
    expect((await t.connections.get('mailchimp'))?.details).toEqual({ audienceId: 'list1', webhookId: 'wh1' });
    expect((await t.connections.secrets('mailchimp'))?.apiKey).toBe(KEY);
    // The database holds no plaintext key, and neither does the audit log.
    const { db } = rawStore(getStore());
    const stored = await rows<{ value: string }>(db, sql`select value from kv where shop_id = ${t.shopId}`);
    expect(stored.length).toBeGreaterThan(0);
    for (const row of stored) expect(row.value).not.toContain(KEY.slice(0, 32));
    let audit = '';
    for await (const chunk of t.audit.export('jsonl', { action: 'connection.changed' })) audit += chunk;
    expect(audit.trim().split('\n')).toHaveLength(2);
    expect(audit).not.toContain(KEY.slice(0, 32));
    expect(audit).toContain('apiKey');
    await t.connections.remove('mailchimp', admin);
    expect(await t.connections.get('mailchimp')).toBeNull();
    expect(await t.connections.secrets('mailchimp')).toBeNull();
  });

  it('bad input changes nothing: details without credentials, an empty secret, a bad system name', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop('conn') });
    for (const attempt of [
      () => t.connections.save('mailchimp', { details: { audienceId: 'x' } }, admin),
      () => t.connections.save('mailchimp', { secrets: { apiKey: '' } }, admin),
      () => t.connections.save('Mail Chimp', { secrets: { apiKey: KEY } }, admin),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isTactfulError(error) && error.code).toBe('INPUT.INVALID');
    }
    expect(await t.connections.list()).toEqual([]);
  });
});
