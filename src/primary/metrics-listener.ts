import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeMetrics } from '../metrics/node.js';
import type { Logger } from '../util/log.js';

/**
 * The primary's Prometheus listener (METRICS_HOST:METRICS_PORT, loopback by default): GET /metrics
 * is the node's scrape, anything else a 404. A port in use is a warning, not a failed start: the
 * relay serves traffic without its metrics rather than not at all.
 */
export async function serveMetrics(
  at: { host: string; port: number },
  metrics: NodeMetrics,
  log: Logger,
): Promise<{ port: number; close(): void } | undefined> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: the metrics are at GET /metrics\n');
      return;
    }
    metrics.scrape().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (err: unknown) => {
        log.warn('metrics scrape failed', { err });
        res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
      },
    );
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (err) => {
      log.warn('metrics listener not started', { host: at.host, port: at.port, err });
      resolve(false);
    });
    server.listen(at.port, at.host, () => resolve(true));
  });
  if (!listening) return undefined;
  server.unref();
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}
