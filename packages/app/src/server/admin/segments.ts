import express, { type Request, type Router } from 'express';
import { adminActorOf } from '../admin-auth.js';
import { ageBands, consentStates, isTactfulError, rfmLabels, segmentAttributes, type Tactful } from '@tactful/core';
import type { ChartSpec } from '../dashboard-data.js';
import type { SafeHtml } from '../html.js';
import { previewRefused, previewResult, segmentsPage, type BuilderOptions } from './views/segments.js';

/** The definition in a form field, parsed: SyntaxError names what is wrong with the JSON. */
function parseDefinition(text: string): unknown {
  if (text.trim() === '') throw new SyntaxError('the definition is empty: add a condition or write it as JSON');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`the definition is not valid JSON (${(error as Error).message})`);
  }
}

/** The ranks (1-based) a Pareto chart of `n` members plots: all of them up to 200, else 200 spread evenly. */
export function paretoRanks(n: number, points = 200): number[] {
  if (n <= points) return Array.from({ length: n }, (_, i) => i + 1);
  return Array.from({ length: points }, (_, i) => 1 + Math.round((i * (n - 1)) / (points - 1)));
}

/** Saved segments with their size, a preview of any definition, and the Pareto and RFM views. */
export function adminSegments(tactful: Tactful): Router {
  const router = express.Router();

  async function render(
    req: Request,
    status: number,
    notice?: { kind: 'ok' | 'error'; text: string },
    draft?: { name: string; definition: string },
  ): Promise<[number, string]> {
    const saved = await tactful.segments.list();
    const sizes = await Promise.all(saved.map((s) => tactful.segments.preview(s.definition, 0).then((p) => p.count)));
    const definition = draft?.definition ?? (typeof req.query.definition === 'string' ? req.query.definition : '');
    let preview: SafeHtml | string = '';
    if (definition.trim() !== '' && notice?.kind !== 'error') {
      try {
        const result = await tactful.segments.preview(parseDefinition(definition), 10);
        preview = previewResult(result);
      } catch (error) {
        if (!isTactfulError(error) && !(error instanceof SyntaxError)) throw error;
        status = 400;
        preview = previewRefused(
          error instanceof SyntaxError ? `Not previewed: ${error.message}.` : (error as Error).message,
        );
      }
    }
    const threshold = Math.min(0.99, Math.max(0.5, Number(req.query.threshold) || 0.8));
    const pareto = await tactful.segments.pareto(threshold);
    const { currency } = await tactful.settings.get();
    const rfm = await tactful.segments.rfm();
    const charts: Record<string, ChartSpec> = {
      rfm: {
        type: 'bar',
        labels: rfm.labels.map((l) => l.label.replace(/_/g, ' ')),
        datasets: [{ label: 'Customers', data: rfm.labels.map((l) => l.customers) }],
      },
      // Every member up to the threshold, largest first: at most 200 points, evenly spread, always the last
      // (where the curve crosses the threshold), so the line ends where the sentence above says it does.
      pareto: {
        type: 'line',
        labels: paretoRanks(pareto.members.length).map(String),
        xTitle: 'customers, largest revenue first',
        yTitle: 'cumulative share of revenue (%)',
        datasets: [
          {
            label: 'Cumulative share of revenue (%)',
            data: paretoRanks(pareto.members.length).map(
              (rank) => Math.round(pareto.members[rank - 1]!.cumulativeShare * 1000) / 10,
            ),
          },
        ],
      },
    };
    const builder: BuilderOptions = {
      purposes: (await tactful.purposes.list()).map((p) => p.key),
      states: [...consentStates],
      rfmLabels: rfmLabels.map((l) => l.label),
      ageBands: [...ageBands],
      categories: await tactful.merchandising.categories(),
      attributes: [...segmentAttributes],
    };
    const name = draft?.name ?? (typeof req.query.name === 'string' ? req.query.name : '');
    return [
      status,
      segmentsPage({
        notice,
        saved,
        sizes,
        definition,
        preview,
        draft: { name, definition },
        builder,
        pareto,
        rfm,
        currency,
        charts,
      }),
    ];
  }

  // The live count of the form builder: how many match and a sample, or what is wrong, as JSON.
  router.get('/admin/segments/preview.json', async (req, res) => {
    const text = typeof req.query.definition === 'string' ? req.query.definition : '';
    try {
      const result = await tactful.segments.preview(parseDefinition(text), 5);
      res.json({ ok: true, count: result.count, profiles: result.profiles, sample: result.sample });
    } catch (error) {
      if (!isTactfulError(error) && !(error instanceof SyntaxError)) throw error;
      const message = error instanceof SyntaxError ? `Not counted: ${error.message}.` : (error as Error).message;
      // An answer about the definition, not a failed request: the builder shows the message.
      res.json({ ok: false, message });
    }
  });

  router.get('/admin/segments', async (req, res) => {
    const saved = typeof req.query.saved === 'string' ? req.query.saved : undefined;
    const [status, out] = await render(req, 200, saved ? { kind: 'ok', text: `Segment "${saved}" saved.` } : undefined);
    res.status(status).send(out);
  });

  router.post('/admin/segments', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const definition = typeof body.definition === 'string' ? body.definition : '';
    try {
      if (name === '') throw new SyntaxError('Give the segment a name');
      await tactful.segments.save(name, parseDefinition(definition), adminActorOf(res));
      res.redirect(303, `/admin/segments?saved=${encodeURIComponent(name)}`);
    } catch (error) {
      if (!isTactfulError(error) && !(error instanceof SyntaxError)) throw error;
      const [, out] = await render(
        req,
        400,
        { kind: 'error', text: `${error.message}. Nothing was saved.` },
        { name, definition },
      );
      res.status(400).send(out);
    }
  });

  router.post('/admin/segments/delete', async (req, res) => {
    const name =
      typeof (req.body as Record<string, unknown>)?.name === 'string'
        ? ((req.body as Record<string, unknown>).name as string)
        : '';
    await tactful.segments.delete(name, adminActorOf(res));
    res.redirect(303, '/admin/segments');
  });

  return router;
}
