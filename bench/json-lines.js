// json-lines.js - reads the JSON-lines results a benchmark child process prints on stdout
// (bench/run.mjs's jobs, bench/gemm.mjs's per-thread-count children); other lines are ignored.

/** Calls onRow with each `{...}` line of stream, parsed, as it arrives. @param {import('node:stream').Readable} stream @param {(row: any) => void} onRow */
export function onJsonLines(stream, onRow) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('{')) onRow(JSON.parse(line));
    }
  });
}
