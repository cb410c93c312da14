/**
 * The fake Anthropic upstream as its own process, for load tests:
 * `node --import tsx bench/fake-upstream.ts`. Prints `{"url": …, "stats": …}` on stdout once
 * listening; GET <stats>/ returns how many answers it began (`answered`) and finished (`served`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeAnthropic } from '../test/fakes/anthropic.js';

const fake = await startFakeAnthropic({ record: false });
const stats = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ served: fake.served(), answered: fake.answered() }));
});
await new Promise<void>((r) => stats.listen(0, '127.0.0.1', r));
process.stdout.write(
  JSON.stringify({ url: fake.url, stats: `http://127.0.0.1:${(stats.address() as AddressInfo).port}` }) + '\n',
);
process.on('SIGTERM', () => process.exit(0));
