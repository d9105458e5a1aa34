import { isTactfulError, type MerchandisingChange, type Tactful } from '@tactful/core';
import express, { type Response, type Router } from 'express';
import { adminActorOf } from '../admin-auth.js';
import { topProducts } from '../dashboard-data.js';
import { statusOf } from '../error-status.js';
import { bodyText, queryText as q } from '../form-fields.js';
import type { SafeHtml } from '../html.js';
import { productTitles } from '../subject-data.js';
import {
  customerSection,
  type ExplorerContext,
  type ProductCard,
  recommendationsPage,
  refusedSection,
  relatedSection,
} from './views/recommendations.js';

const productActions = ['exclude-product', 'include-product', 'pin', 'unpin', 'move-up'] as const;
const categoryActions = ['exclude-category', 'include-category'] as const;

const words: Record<MerchandisingChange['action'], string> = {
  'exclude-product': 'is never recommended now',
  'include-product': 'may be recommended again',
  pin: 'is favoured now: it leads every list it may be in',
  unpin: 'is no longer favoured',
  'move-up': 'moved up',
  'exclude-category': 'is never recommended now',
  'include-category': 'may be recommended again',
};

/** Back to the explorer only: a `back` field naming another page (or site) is ignored. */
function backOf(value: string): string {
  return /^\/admin\/recommendations(?:[?#][^\s]*)?$/.test(value) ? value : '/admin/recommendations';
}

/**
 * The recommendations explorer in the owner's words (what goes with a product, what a customer would be shown,
 * with pictures, prices and the statistics a click away), and the shop's merchandising rules, changed right there.
 */
export function recommendationRoutes(tactful: Tactful): Router {
  const router = express.Router();

  /** The explorer as `view` (the query of an explorer URL) asks for it. */
  async function render(
    view: URLSearchParams,
    res: Response,
    status: number,
    notice?: { kind: 'ok' | 'error'; text: string },
  ) {
    const text = (name: string) => (view.get(name) ?? '').trim();
    const productId = text('product');
    const customer = text('customer');
    const find = text('find');
    const products = await topProducts(tactful);
    const rules = await tactful.merchandising.rules();
    const { currency } = await tactful.settings.get();
    const here = new URLSearchParams(view);
    here.delete('done');
    here.delete('item');
    const back = `/admin/recommendations${here.size > 0 ? `?${here}` : ''}`;
    const context: ExplorerContext = {
      currency,
      rules,
      back: backOf(back),
      statistic: (await tactful.recommend.model()).neighbourOptions.score,
    };
    let product: SafeHtml | string = '';
    if (productId) {
      try {
        const related = await tactful.recommend.relatedExplained(productId, 10);
        const found = (await tactful.merchandising.search(productId, 100)).find((p) => p.productId === productId);
        const card: ProductCard = found ?? {
          productId,
          title: (await productTitles(tactful, [productId])).get(productId) ?? productId,
        };
        product = relatedSection(card, related, context);
      } catch (error) {
        if (!isTactfulError(error)) throw error;
        product = refusedSection(error.message);
      }
    }
    let forCustomer: SafeHtml | string = '';
    if (customer) {
      try {
        const result = await tactful.recommend.forCustomer(customer, { k: 10 });
        const titles = await productTitles(
          tactful,
          result.recommendations.flatMap((r) =>
            r.reasons.flatMap((x) => (x.kind === 'bought-with' ? [x.because] : [])),
          ),
        );
        forCustomer = customerSection(customer, result, titles, context);
      } catch (error) {
        if (!isTactfulError(error)) throw error;
        forCustomer = refusedSection(error.message);
      }
    }
    const named = [...rules.pinnedProducts, ...rules.excludedProducts];
    res.status(status).send(
      recommendationsPage({
        products,
        productId,
        customer,
        notice,
        productSection: product,
        customerSection: forCustomer,
        context,
        merchandising: {
          rules,
          titles: await productTitles(tactful, named),
          keptOut: await tactful.merchandising.keptOut(),
          categories: await tactful.merchandising.categories(),
          find,
          found: find ? await tactful.merchandising.search(find, 20) : [],
        },
      }),
    );
  }

  router.get('/admin/recommendations', async (req, res) => {
    // The notice is built here from the action's code and the catalogue: the query never supplies its text.
    const done = q(req, 'done') as MerchandisingChange['action'];
    const item = q(req, 'item');
    let notice: { kind: 'ok'; text: string } | undefined;
    if (Object.hasOwn(words, done) && item) {
      const subject = done.endsWith('category')
        ? `The category ${item}`
        : ((await productTitles(tactful, [item])).get(item) ?? null);
      if (subject) notice = { kind: 'ok', text: `${subject} ${words[done]}.` };
    }
    await render(new URL(req.originalUrl, 'http://x').searchParams, res, 200, notice);
  });

  // One merchandising change (audited in core); bad input: the page again with the reason, nothing changed.
  router.post('/admin/merchandising', async (req, res) => {
    const action = bodyText(req, 'action');
    const back = backOf(bodyText(req, 'back'));
    let change: MerchandisingChange | null = null;
    if ((productActions as readonly string[]).includes(action))
      change = { action: action as (typeof productActions)[number], productId: bodyText(req, 'productId') };
    else if ((categoryActions as readonly string[]).includes(action))
      change = { action: action as (typeof categoryActions)[number], category: bodyText(req, 'category') };
    // The page the owner came from, with the refusal.
    const refuse = (status: number, text: string) =>
      render(new URL(back, 'http://x').searchParams, res, status, {
        kind: 'error',
        text: `${text} Nothing was changed.`,
      });
    if (!change)
      return void (await refuse(400, `"${action}" is not a change the shop can make to its recommendations.`));
    if ('productId' in change && change.productId.trim() === '')
      return void (await refuse(400, 'Pick a product first.'));
    if ('category' in change && change.category.trim() === '')
      return void (await refuse(400, 'Pick a category first.'));
    try {
      await tactful.merchandising.change(change, adminActorOf(res));
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      return void (await refuse(statusOf(error), error.message));
    }
    const url = new URL(back, 'http://x');
    url.searchParams.set('done', change.action);
    url.searchParams.set('item', 'productId' in change ? change.productId : change.category);
    res.redirect(303, `${url.pathname}${url.search}`);
  });

  return router;
}
