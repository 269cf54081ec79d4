// serve.mjs - serves the repository for the demo on localhost with the headers that make the page
// cross-origin isolated (COOP same-origin + COEP require-corp: SharedArrayBuffer, so the
// threaded engine), and prints the demo's URL. `npm start` runs it after building.
//
//   node web-demo/serve.mjs [--port 8080]      (or PORT=...; the next free port if taken)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../scripts/serve.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--port');
const first = Number(i >= 0 ? process.argv[i + 1] : process.env.PORT ?? 8080);

let srv;
for (let port = first; !srv; port++) {
  try {
    srv = await startServer({ root, isolated: true, port });
  } catch (e) {
    if (e.code !== 'EADDRINUSE' || port > first + 20) throw e;
  }
}
console.log(`\n  wembed demo: ${srv.url}/web-demo/\n`);
console.log('  Served cross-origin isolated (the engine runs with threads). Ctrl-C to stop.\n');
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => srv.close().then(() => process.exit(0)));
