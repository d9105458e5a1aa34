import { resolve } from 'node:path';
import {
  TactfulError,
  emailAddress,
  readBaskets,
  readItemCatalog,
  type OrderBasket,
  type OrderRecord,
} from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { withProgress } from '../cli/progress.js';
import type { CliContext, CommandModule } from '../cli/program.js';

/** An order of a baskets file as an order record: the customer is an email when it looks like one. */
export function basketToOrder(basket: OrderBasket, fallbackTime: Date): OrderRecord {
  const customer = basket.customerId ?? null;
  const email = customer ? emailAddress.safeParse(customer) : null;
  const time = basket.time ? new Date(basket.time) : fallbackTime;
  return {
    id: basket.orderId,
    email: email?.success ? email.data : null,
    customerId: email?.success ? null : customer,
    createdAt: time,
    updatedAt: time,
    lines: basket.productIds.map((productId) => ({ productId, title: productId, quantity: 1 })),
  };
}

export const importCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const command = program.command('import').description('import data into the store');
  command
    .command('orders <file>')
    .description(
      'import order history (Shopify orders export CSV, baskets, FIMI or JSONL order lines) and update the model',
    )
    .option('--format <format>', 'shopify-csv | basket-csv | fimi | jsonl (guessed when omitted)')
    .option(
      '--catalog <file>',
      'an item catalogue CSV (labels, level2) to set product categories, e.g. groceries_items.csv',
    )
    .option('--source <system>', 'the system the orders come from', 'import')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, flags: { format?: string; catalog?: string; source: string; json?: boolean }) => {
      const path = resolve(ctx.io.cwd, file);
      const { format, baskets } = await readBaskets(path, flags.format);
      // The whole file is read once before anything is stored: a broken line anywhere (also after the first
      // batch of 2 000) refuses the import and leaves the store as it was. Two reads keep the memory flat.
      let readable = 0;
      for await (const basket of (await readBaskets(path, format)).baskets) if (basket) readable += 1;
      if (readable === 0)
        throw new TactfulError('INPUT.INVALID', `${file} holds no orders (read as ${format}); check --format.`);
      const catalog = flags.catalog ? await readItemCatalog(resolve(ctx.io.cwd, flags.catalog)) : [];
      await withEngine(ctx, async (tactful) => {
        const started = Date.now();
        const total = { orders: 0, added: 0, updated: 0, ignored: 0, modelBaskets: 0 };
        const importedAt = new Date();
        await withProgress(
          ctx.io,
          `importing ${file}`,
          undefined,
          async (progress) => {
            let batch: OrderRecord[] = [];
            const flush = async () => {
              const r = await tactful.orders.ingest(batch, flags.source);
              total.added += r.added;
              total.updated += r.updated;
              total.ignored += r.ignored;
              total.modelBaskets += r.modelBaskets;
              progress.tick(batch.length);
              batch = [];
            };
            for await (const basket of baskets) {
              batch.push(basketToOrder(basket, importedAt));
              total.orders += 1;
              if (batch.length >= 2000) await flush();
            }
            if (batch.length > 0) await flush();
          },
          { quiet: flags.json, unit: 'orders' },
        );
        if (total.orders === 0)
          throw new TactfulError('INPUT.INVALID', `${file} holds no orders (read as ${format}); check --format.`);
        if (catalog.length > 0)
          await tactful.products.upsert(
            catalog.map((p) => ({ id: p.id, title: p.title, category: p.category ?? null, available: p.available })),
          );
        const summary = { file, format, ...total, products: catalog.length, seconds: (Date.now() - started) / 1000 };
        if (flags.json) return ctx.json(summary);
        ctx.line(
          `imported ${total.orders} orders from ${file} (${format}): ${total.added} new, ${total.updated} updated, ${total.ignored} unchanged or older; the model now counts ${total.modelBaskets >= 0 ? '+' : ''}${total.modelBaskets} baskets` +
            (catalog.length > 0 ? `; ${catalog.length} catalogue entries` : ''),
        );
      });
    });
};
