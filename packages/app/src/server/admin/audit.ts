import { Readable } from 'node:stream';
import { auditActions, type Tactful } from '@tactful/core';
import express, { type Request, type Router } from 'express';
import { type AuditFilter, auditPage } from '../dashboard-data.js';
import { queryText as q } from '../form-fields.js';
import { auditLogPage, hashChainsPage } from './views/audit.js';

function parseDay(value: string, endOfDay: boolean): Date | undefined | 'invalid' {
  if (value === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'invalid';
  const d = new Date(`${value}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z`);
  return Number.isNaN(d.getTime()) ? 'invalid' : d;
}

async function auditFilter(
  tactful: Tactful,
  req: Request,
): Promise<{ filter: AuditFilter; problems: string[]; empty: boolean }> {
  const problems: string[] = [];
  const filter: AuditFilter = {};
  let empty = false;
  const action = q(req, 'action');
  if (action) {
    if ((auditActions as readonly string[]).includes(action)) filter.action = action;
    else problems.push(`Unknown action "${action}".`);
  }
  const email = q(req, 'email');
  if (email) {
    const subjectId = await tactful.audit.subjectIdOf(email).catch(() => null);
    if (subjectId) filter.subjectId = subjectId;
    else empty = true;
  }
  const subject = q(req, 'subject');
  if (subject && !filter.subjectId) filter.subjectId = subject;
  const since = parseDay(q(req, 'since'), false);
  const until = parseDay(q(req, 'until'), true);
  if (since === 'invalid') problems.push('"From" must be a date (YYYY-MM-DD).');
  else filter.since = since;
  if (until === 'invalid') problems.push('"To" must be a date (YYYY-MM-DD).');
  else filter.until = until;
  return { filter, problems, empty };
}

/** The audit log: filter, page, export as CSV, and verify both hash chains. */
export function auditRoutes(tactful: Tactful): Router {
  const router = express.Router();

  router.get('/admin/audit', async (req, res) => {
    const { filter, problems, empty } = await auditFilter(tactful, req);
    const pageText = q(req, 'page');
    // A page number beyond any log is a client's mistake (1e20 would overflow the query's offset).
    if (pageText !== '' && !/^[1-9]\d{0,5}$/.test(pageText))
      problems.push(`"${pageText}" is not a page number: use a whole number from 1 to 999999.`);
    const pageNo = /^[1-9]\d{0,5}$/.test(pageText) ? Number(pageText) : 1;
    const size = 50;
    const result =
      problems.length > 0 || empty
        ? { rows: [], total: 0 }
        : await auditPage(tactful, filter, size, (pageNo - 1) * size);
    const query = new URLSearchParams();
    for (const k of ['action', 'email', 'subject', 'since', 'until']) if (q(req, k)) query.set(k, q(req, k));
    const form = { action: q(req, 'action'), email: q(req, 'email'), since: q(req, 'since'), until: q(req, 'until') };
    res
      .status(problems.length > 0 ? 400 : 200)
      .send(auditLogPage({ form, query, problems, empty, rows: result.rows, total: result.total, pageNo, size }));
  });

  router.get('/admin/audit/verify', async (_req, res) => {
    const verify = await tactful.audit.verify();
    res.status(verify.ledger.ok && verify.audit.ok ? 200 : 409).send(hashChainsPage(verify));
  });

  router.get('/admin/audit.csv', async (req, res) => {
    const { filter, problems, empty } = await auditFilter(tactful, req);
    if (problems.length > 0) {
      res.status(400).type('text/plain').send(problems.join('\n'));
      return;
    }
    res
      .type('text/csv; charset=utf-8')
      .set('Content-Disposition', `attachment; filename="audit-${tactful.shopId}.csv"`);
    const lines = tactful.audit.export('csv', empty ? { subjectId: 'no-such-subject' } : filter);
    await new Promise<void>((resolve, reject) => {
      Readable.from(lines).on('error', reject).pipe(res).on('finish', resolve).on('error', reject);
    });
  });

  return router;
}
