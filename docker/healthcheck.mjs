// Container HEALTHCHECK for both processes of the image (no curl in the slim images).
// Checks the URL given as argument; else a worker's readiness when MODEL is set (only the
// worker reads MODEL), else the API's. Readiness, so compose's `service_healthy` means usable.
/* global AbortSignal */
const url =
  process.argv[2] ??
  (process.env.MODEL
    ? `http://127.0.0.1:${process.env.HEALTH_PORT || 8081}/health/ready`
    : `http://127.0.0.1:${process.env.PORT || 8080}/v2/health/ready`);

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
