import { isTactfulError, type Tactful } from '@tactful/core';
import express, { type Router } from 'express';
import { topProducts } from '../dashboard-data.js';
import { queryText as q } from '../form-fields.js';
import type { SafeHtml } from '../html.js';
import { productTitles } from '../subject-data.js';
import { customerSection, recommendationsPage, refusedSection, relatedSection } from './views/recommendations.js';

/** The recommendations explorer: what goes with a product, and what a customer would be shown and why. */
export function recommendationRoutes(tactful: Tactful): Router {
  const router = express.Router();
  router.get('/admin/recommendations', async (req, res) => {
    const productId = q(req, 'product');
    const customer = q(req, 'customer');
    const products = await topProducts(tactful);
    let product: SafeHtml | string = '';
    if (productId) {
      try {
        const related = await tactful.recommend.related(productId, 10);
        const title = (await productTitles(tactful, [productId])).get(productId) ?? productId;
        product = relatedSection(title, related);
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
        forCustomer = customerSection(customer, result, titles);
      } catch (error) {
        if (!isTactfulError(error)) throw error;
        forCustomer = refusedSection(error.message);
      }
    }
    res.send(
      recommendationsPage({ products, productId, customer, productSection: product, customerSection: forCustomer }),
    );
  });
  return router;
}
