// serve.mjs - a small static file server for the demo and the browser tests.
//
// With `isolated` it sends the headers that make a page cross-origin isolated (COOP
// same-origin + COEP require-corp), which browsers require before they expose
// SharedArrayBuffer, and so before the threaded wasm module can run.
//
//   node scripts/serve.mjs [--port 8080] [--root .] [--no-isolation]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
  '.svg': 'image/svg+xml', '.txt': 'text/plain; charset=utf-8', '.md': 'text/markdown; charset=utf-8',
  '.safetensors': 'application/octet-stream', '.gguf': 'application/octet-stream',
  '.bin': 'application/octet-stream', '.ico': 'image/x-icon',
};

/**
 * Starts serving `root`. Resolves to { server, url, close() } once listening.
 * @param {{root: string, isolated?: boolean, port?: number, host?: string}} opts
 */
export function startServer({ root, isolated = true, port = 0, host = '127.0.0.1' }) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    const headers = { 'Cache-Control': 'no-cache' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400, headers).end('bad request');
      return;
    }
    let file = path.join(base, rel);
    if (file !== base && !file.startsWith(base + path.sep)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    fs.stat(file, (err, st) => {
      if (!err && st.isDirectory()) {
        file = path.join(file, 'index.html');
        st = fs.existsSync(file) ? fs.statSync(file) : null;
      }
      if (err || !st) {
        res.writeHead(404, headers).end('not found');
        return;
      }
      headers['Content-Type'] = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
      headers['Content-Length'] = String(st.size);
      res.writeHead(200, headers);
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).pipe(res);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: p } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({ server, url: `http://${host}:${p}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const get = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  const root = get('--root', path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const { url } = await startServer({ root, isolated: !args.includes('--no-isolation'), port: Number(get('--port', 8080)) });
  console.log(`serving ${path.resolve(root)} at ${url}/`);
}
