import express, { type Router } from 'express';
import { adminActorOf } from '../admin-auth.js';
import { isTactfulError, type Tactful } from '@tactful/core';
import { refusalOf } from '../error-status.js';
import { html } from '../html.js';
import { page } from '../layout.js';

/**
 * Data requests a platform sent (Shopify `customers/data_request`): Tactful prepares the customer's export
 * bundle when the webhook is processed; the merchant downloads it here to hand it over. Each download is
 * audited.
 */
export function adminDataRequests(tactful: Tactful): Router {
  const router = express.Router();
  router.get('/admin/data-requests', async (_req, res) => {
    const requests = await tactful.privacy.dataRequests();
    const body = html`<h1>Data requests</h1>
<p>Customers who asked the store for their data through the platform. Download the bundle and send it to them.</p>
${
  requests.length === 0
    ? html`<p>No data requests so far.</p>`
    : html`<table><thead><tr><th>Request</th><th>Prepared</th><th>Customer</th><th></th></tr></thead><tbody>${requests.map(
        (r) =>
          html`<tr><td class="wrap">${r.requestId}</td><td>${r.preparedAt}</td><td>${r.subjectId ? html`<a href="/admin/customers/${encodeURIComponent(r.subjectId)}">open the customer</a>` : html`<span class="muted">erased or unknown</span>`}</td><td><a href="/admin/data-requests/${encodeURIComponent(r.requestId)}.json">download</a></td></tr>`,
      )}</tbody></table>`
}`;
    res.send(page({ title: 'Data requests', admin: { current: '/admin/data-requests' }, body }));
  });
  router.get('/admin/data-requests/:id.json', async (req, res) => {
    try {
      const found = await tactful.privacy.dataRequest(req.params.id, adminActorOf(res));
      res
        .type('application/json')
        .set(
          'Content-Disposition',
          `attachment; filename="data-request-${found.requestId.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`,
        );
      res.send(`${JSON.stringify(found, null, 2)}\n`);
    } catch (error) {
      // The download's only refusal is a request that is not there: its status, with the message as text.
      const refused = isTactfulError(error, 'PRIVACY.NOT_FOUND') ? refusalOf(error.code) : undefined;
      if (refused)
        res
          .status(refused.status)
          .type('text/plain')
          .send((error as Error).message);
      else throw error;
    }
  });
  return router;
}
