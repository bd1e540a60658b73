import type { BenchReport, ModelReport } from './types.js';

const W = 760;
const PANEL_H = 300;
const M = { left: 64, right: 150, top: 36, bottom: 44 };
const COLORS: Record<string, string> = {
  switchyard: '#1f77b4',
  'switchyard-oip': '#17becf',
  embedded: '#2ca02c',
  'embedded-oip': '#98df8a',
  naive: '#d62728',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * chart.svg: per model, latency (p50 solid, p99 dashed; log scale) against throughput for
 * every series, one point per concurrency, and the in-process limit (a) as a vertical line.
 */
export function renderChart(report: BenchReport): string {
  const models = report.models.filter((m) => !m.skipped && m.runs.length > 0);
  const height = Math.max(1, models.length) * PANEL_H + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  models.forEach((m, i) => parts.push(panel(m, i * PANEL_H)));
  if (models.length === 0) parts.push(`<text x="20" y="20">no measurements</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function panel(model: ModelReport, y0: number): string {
  const x0 = M.left;
  const plotW = W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const limit = model.inProcess?.limit.itemsPerS;
  const xs = model.runs.map((r) => r.load.throughput);
  const maxX = niceMax(Math.max(...xs, 1) * 1.1);
  const lat = model.runs.flatMap((r) => [r.load.latencyMs.p50, r.load.latencyMs.p99]).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...lat, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...lat, 1) * 1.01)));
  const sx = (v: number): number => x0 + (Math.min(v, maxX) / maxX) * plotW;
  const sy = (v: number): number =>
    y0 + M.top + plotH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
  const out: string[] = [
    `<text x="${x0}" y="${y0 + 20}" font-size="14" font-weight="bold">${esc(model.model)}: latency vs throughput</text>`,
    `<rect x="${x0}" y="${y0 + M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  ];
  for (let d = lo; d <= hi * 1.001; d *= 10) {
    const y = sy(d);
    out.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${d >= 1 ? d : d.toPrecision(1)}</text>`);
  }
  for (let k = 0; k <= 5; k++) {
    const v = (maxX / 5) * k;
    out.push(`<text x="${sx(v)}" y="${y0 + M.top + plotH + 16}" text-anchor="middle">${Math.round(v)}</text>`);
  }
  out.push(
    `<text x="${x0 + plotW / 2}" y="${y0 + PANEL_H - 8}" text-anchor="middle">throughput (req/s)</text>`,
    `<text transform="translate(${14},${y0 + M.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency ms (log)</text>`,
  );
  if (limit && limit <= maxX) {
    out.push(
      `<line x1="${sx(limit)}" x2="${sx(limit)}" y1="${y0 + M.top}" y2="${y0 + M.top + plotH}" stroke="#555" stroke-dasharray="2,3"/>`,
      `<text x="${sx(limit) - 4}" y="${y0 + M.top + 12}" text-anchor="end" fill="#555">(a) ${Math.round(limit)}/s</text>`,
    );
  } else if (limit) {
    out.push(
      `<text x="${x0 + plotW - 4}" y="${y0 + M.top + 12}" text-anchor="end" fill="#555">(a) ${Math.round(limit)}/s, off scale →</text>`,
    );
  }
  const series = [...new Set(model.runs.map((r) => r.series))];
  series.forEach((name, i) => {
    const runs = model.runs.filter((r) => r.series === name).sort((a, b) => a.load.connections - b.load.connections);
    const color = COLORS[name] ?? '#777';
    for (const [key, dash] of [
      ['p50', ''],
      ['p99', ' stroke-dasharray="5,3"'],
    ] as const) {
      const pts = runs.map((r) => `${sx(r.load.throughput).toFixed(1)},${sy(r.load.latencyMs[key]).toFixed(1)}`);
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="1.8"${dash}/>`);
      for (const r of runs) {
        out.push(
          `<circle cx="${sx(r.load.throughput).toFixed(1)}" cy="${sy(r.load.latencyMs[key]).toFixed(1)}" r="2.5" fill="${color}">` +
            `<title>${esc(`${name} c=${r.load.connections} ${key} ${r.load.latencyMs[key].toFixed(2)} ms, ${r.load.throughput.toFixed(0)} req/s`)}</title></circle>`,
        );
      }
    }
    const ly = y0 + M.top + 10 + i * 16;
    out.push(
      `<line x1="${x0 + plotW + 12}" x2="${x0 + plotW + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${x0 + plotW + 36}" y="${ly + 4}">${esc(name)}</text>`,
    );
  });
  const ly = y0 + M.top + 14 + series.length * 16;
  out.push(`<text x="${x0 + plotW + 12}" y="${ly}" fill="#555">solid p50, dashed p99</text>`);
  return out.join('\n');
}

function niceMax(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
