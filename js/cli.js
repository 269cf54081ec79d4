#!/usr/bin/env node
// cli.js - the `wembed` command (package.json "bin"). The contract is DESIGN.md's: JSON Lines in
// on stdin, JSON Lines out on stdout, one output line per input line and in the same order.
// Input is read incrementally and embedded in small batches, each written before the next is
// read, so memory stays flat on any input size. A bad line gets {"error": ..., "line": N} in its
// place on stdout and a message with its line number on stderr; the other lines are unaffected.
// Exit codes: 0 all lines done, 1 some line failed, a runtime error or a write error on stdout (a
// closed pipe is not one: the run ends quietly), 2 usage.
//
// The commands live in js/cli/: embed.js (embed, embed-image), rerank.js, tokenize.js, model.js (the model
// options every command shares, and info), search.js, bench.js; io.js reads and writes the lines.

import fs from 'node:fs';
import { createEngine } from './engine.js';
import { WembedError } from './errors.js';
import { UsageError } from './cli/args.js';
import { statusDone, flushOut, WriteError } from './cli/io.js';
import { usage } from './cli/usage.js';
import { embedCommand, embedImageCommand } from './cli/embed.js';
import { tokenizeCommand } from './cli/tokenize.js';
import { rerankCommand } from './cli/rerank.js';
import { infoCommand, stopEngine } from './cli/model.js';
import { searchCommand } from './cli/search.js';
import { benchGemmCommand, benchEmbedCommand } from './cli/bench.js';

/** The usage text, with the value names of the engine's table (a small engine started for it). */
async function usageText() {
  const engine = await createEngine({ variant: 'st' });
  try {
    return usage(engine.consts);
  } finally {
    engine.dispose();
  }
}

async function main(argv) {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(await usageText());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const engine = await createEngine({ variant: 'st' });
    process.stdout.write(`wembed ${pkg.version} (engine ${engine.version}, ${engine.systemInfo})\n`);
    engine.dispose();
    return 0;
  }
  const [command, ...rest] = argv;
  switch (command) {
    case 'tokenize': return tokenizeCommand(rest);
    case 'embed': return embedCommand(rest);
    case 'embed-image': return embedImageCommand(rest);
    case 'rerank': return rerankCommand(rest);
    case 'info': return infoCommand(rest);
    case 'bench':
      if (rest[0] === 'gemm') return benchGemmCommand(rest.slice(1));
      if (rest[0] === 'embed') return benchEmbedCommand(rest.slice(1));
      throw new UsageError(`unknown benchmark: ${rest[0] ?? '(none)'}; there are gemm and embed`);
    case 'search': return searchCommand(rest);
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

// Exit code 0 only once stdout has taken every byte (a full disk is an error, not a success).
main(process.argv.slice(2)).then(async (code) => { await flushOut(); return code; }).finally(stopEngine).then(
  (code) => { process.exitCode = code; },
  async (err) => {
    statusDone();
    if (err instanceof UsageError) {
      process.stderr.write(`wembed: ${err.message}\n\n${await usageText()}`);
      process.exitCode = 2;
    } else if (err instanceof WriteError) {
      process.stderr.write(`wembed: ${err.message}\n`);
      process.exitCode = 1;
    } else if (err instanceof WembedError) {
      process.stderr.write(`wembed: ${err.message} [${err.code}]\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`wembed: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    }
  },
);
