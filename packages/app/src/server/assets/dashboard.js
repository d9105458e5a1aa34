// @ts-check
/**
 * The dashboard's only script (/assets/dashboard.js): draws every `<canvas data-chart="name">` from the JSON
 * block `#chart-data` with Chart.js (/assets/chart.umd.min.js, served from this app). No inline script, so the
 * CSP stays strict.
 */

/**
 * One chart as the server describes it (ChartSpec in dashboard-data.ts).
 * @typedef {{ label: string, data: number[], color?: string }} Dataset
 * @typedef {{ type: string, labels: string[], datasets: Dataset[], stacked?: boolean, xTitle?: string,
 *   yTitle?: string }} ChartSpec
 * @typedef {new (canvas: HTMLCanvasElement, config: object) => unknown} ChartConstructor
 */

(() => {
  const block = document.getElementById('chart-data');
  const Chart = /** @type {{ Chart?: ChartConstructor }} */ (/** @type {unknown} */ (window)).Chart;
  if (!block || !Chart) return;
  /** @type {Record<string, ChartSpec>} */
  const data = JSON.parse(block.textContent || '{}');
  const palette = ['#1f5fbf', '#1d7a46', '#a32020', '#9a5b00', '#6b3fa0', '#0f7d8c', '#5b6676'];
  document.querySelectorAll('canvas[data-chart]').forEach((element) => {
    const canvas = /** @type {HTMLCanvasElement} */ (element);
    const spec = data[canvas.getAttribute('data-chart') ?? ''];
    if (!spec) return;
    const datasets = spec.datasets.map((d, i) => {
      const color = d.color || palette[i % palette.length];
      return {
        label: d.label,
        data: d.data,
        borderColor: color,
        backgroundColor: spec.type === 'line' ? color : `${color}cc`,
        tension: 0.2,
        fill: false,
      };
    });
    const axis = (/** @type {string | undefined} */ title) => ({ display: !!title, text: title || '' });
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales:
          spec.type === 'doughnut'
            ? {}
            : {
                x: { stacked: !!spec.stacked, title: axis(spec.xTitle) },
                y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 }, title: axis(spec.yTitle) },
              },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  });
})();
