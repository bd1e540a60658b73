import type { QueueStatus, StatusReport } from './status-report.js';

/** Inline styles only: the page loads nothing, so its CSP allows nothing else. */
export const STATUS_CSP = "default-src 'none'; style-src 'unsafe-inline'";

const COLUMNS: [string, (q: QueueStatus) => string][] = [
  ['queue', (q) => q.queue],
  ['model', (q) => q.model],
  ['versions', (q) => q.versions.join(', ')],
  ['workers', (q) => String(q.workers)],
  ['queue depth', (q) => String(q.queue_depth)],
  ['req/s', (q) => String(q.throughput_rps)],
  ['p50 ms', (q) => dash(q.latency_ms.p50)],
  ['p99 ms', (q) => dash(q.latency_ms.p99)],
  ['mean batch', (q) => dash(q.mean_batch_size)],
  ['ok / failed / expired / cancelled', (q) => Object.values(q.totals).join(' / ')],
];

/** The status page: one table row per queue, a worker list under it; refreshes every 5 s. */
export function renderStatusPage(report: StatusReport): string {
  const head = COLUMNS.map(([name]) => `<th>${escapeHtml(name)}</th>`).join('');
  const rows = report.queues
    .map((q) => {
      const cells = COLUMNS.map(([, cell]) => `<td>${escapeHtml(cell(q))}</td>`).join('');
      const workers = q.worker_details
        .map(
          (w) =>
            `<li>${escapeHtml(
              `${w.id} on ${w.host} (${w.device}), versions ${w.versions.join(', ')}, ` +
                `${w.throughput_rps} req/s, heartbeat ${Math.round(w.heartbeat_age_ms / 100) / 10} s ago`,
            )}</li>`,
        )
        .join('');
      const detail = workers ? `<tr class="workers"><td colspan="${COLUMNS.length}"><ul>${workers}</ul></td></tr>` : '';
      return `<tr>${cells}</tr>${detail}`;
    })
    .join('');
  const empty = report.queues.length === 0 ? `<p>No model is being served.</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Switchyard status</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
th{background:#f4f4f4}tr.workers td{color:#666;font-size:12px}ul{margin:0;padding-left:1.2em}
</style></head><body>
<h1>Switchyard status</h1>
<p>${escapeHtml(`${report.mode} mode, ${report.generated_at}; throughput and latency over the last minute`)}
(<a href="status.json">JSON</a>)</p>
${empty}<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}

function dash(value: number | null): string {
  return value === null ? '–' : String(value);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
