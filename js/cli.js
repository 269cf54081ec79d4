#!/usr/bin/env node
// cli.js - the `wembed` command (package.json "bin"). The contract is in DESIGN.md: JSON Lines
// in and out for the model commands, errors on stderr with a non-zero exit code.
//
//   wembed --version
//   wembed bench gemm [--dtype f32|q8|all] [--threads N|1,2] [--tokens 128,512]
//                     [--shapes KxN,...] [--min-seconds S] [--variant mt|st] [--json]

import { createEngine, MAX_THREADS } from './engine.js';
import { benchGemm, BERT_GEMM_SHAPES } from './bench.js';
import { WembedError } from './errors.js';
import { parseArgs, UsageError } from './cli-args.js';

const USAGE = `usage: wembed <command> [options]

commands:
  bench gemm     GEMM throughput of the engine's kernels on BERT layer shapes
options:
  --version      print the package and engine versions
  --help         this text

wembed bench gemm [--dtype f32|q8|all] [--threads N[,M...]] [--tokens 128,512]
                  [--shapes KxN,...] [--min-seconds S] [--variant auto|mt|st] [--json]
`;

// Hardware peak of the reference machine (TOOLCHAIN.md: Zen 1, 16 flop/cycle at ~2.4 GHz;
// int8 through i32x4.dot_i16x8 is bound near the same number of ops).
const PEAK_GFLOPS = { f32: 38, q8: 38 };

function list(value, parse, name) {
  return String(value).split(',').map((s) => {
    const v = parse(s.trim());
    if (v === undefined || Number.isNaN(v)) throw new UsageError(`bad value in --${name}: ${s}`);
    return v;
  });
}

const positiveInt = (s) => (/^[1-9][0-9]*$/.test(s) ? Number(s) : undefined);

async function benchGemmCommand(argv) {
  const args = parseArgs(argv, {
    dtype: 'string', threads: 'string', tokens: 'string', shapes: 'string',
    'min-seconds': 'string', variant: 'string', json: 'boolean',
  });
  const dtypes = args.dtype === undefined || args.dtype === 'all' ? ['f32', 'q8'] : list(args.dtype, (s) => (['f32', 'q8'].includes(s) ? s : undefined), 'dtype');
  const threadCounts = args.threads === undefined ? [1, 2] : list(args.threads, positiveInt, 'threads');
  const tokens = args.tokens === undefined ? [128, 512] : list(args.tokens, positiveInt, 'tokens');
  const shapes = args.shapes === undefined ? BERT_GEMM_SHAPES : list(args.shapes, (s) => {
    const m = /^([1-9][0-9]*)x([1-9][0-9]*)$/.exec(s);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  }, 'shapes');
  const minSeconds = args['min-seconds'] === undefined ? 0.3 : Number(args['min-seconds']);
  if (!(minSeconds > 0 && minSeconds < 600)) throw new UsageError('--min-seconds must be a number of seconds in (0, 600)');
  for (const t of threadCounts) {
    if (t > MAX_THREADS) throw new UsageError(`--threads: at most ${MAX_THREADS}`);
  }

  const rows = [];
  for (const threads of threadCounts) {
    const variant = args.variant ?? (threads > 1 ? 'mt' : 'auto');
    const engine = await createEngine({ variant, threads });
    try {
      for (const dtype of dtypes) {
        for (const T of tokens) {
          for (const [K, N] of shapes) {
            const r = benchGemm(engine, { dtype, T, K, N, minSeconds });
            const row = { ...r, variant: engine.variant, peakPercent: (100 * r.gflops) / (PEAK_GFLOPS[dtype] * r.threads) };
            rows.push(row);
            if (args.json) process.stdout.write(JSON.stringify(row) + '\n');
            else {
              process.stdout.write(`${dtype.padEnd(4)} T=${String(T).padEnd(4)} K=${String(K).padEnd(5)} N=${String(N).padEnd(5)} ` +
                `threads=${r.threads} ${r.gflops.toFixed(1).padStart(6)} ${dtype === 'q8' ? 'GOP/s ' : 'GFLOP/s'} ` +
                `${row.peakPercent.toFixed(0).padStart(3)}% of peak  nmse ${r.nmse.toExponential(1)}\n`);
            }
          }
        }
      }
    } finally {
      engine.dispose();
    }
  }
  return rows;
}

async function main(argv) {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const engine = await createEngine({ variant: 'st' });
    process.stdout.write(`wembed ${pkg.version} (engine ${engine.version}, ${engine.systemInfo})\n`);
    engine.dispose();
    return 0;
  }
  const [command, sub, ...rest] = argv;
  if (command === 'bench' && sub === 'gemm') {
    await benchGemmCommand(rest);
    return 0;
  }
  throw new UsageError(`unknown command: ${[command, sub].filter(Boolean).join(' ')}`);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`wembed: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof WembedError) {
      process.stderr.write(`wembed: ${err.message} [${err.code}]\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`wembed: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    }
  },
);
