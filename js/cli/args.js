// args.js - a strict option parser for the CLI: every option must be known, values are typed,
// and a mistake is a UsageError that names the option; and the checks of option values.

export class UsageError extends Error {}

/**
 * Parses `--name value`, `--name=value` and boolean `--flag` / `--no-flag`.
 * @param {string[]} argv
 * @param {Record<string, 'string'|'boolean'>} spec
 * @returns {Record<string, any>} options by name, and positionals in `_`
 */
export function parseArgs(argv, spec) {
  /** @type {Record<string, any>} */
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || a === '--') {
      out._.push(a);
      continue;
    }
    let name = a.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (spec[name] === undefined && name.startsWith('no-') && spec[name.slice(3)] === 'boolean' && value === undefined) {
      out[name.slice(3)] = false;
      continue;
    }
    const type = spec[name];
    if (type === undefined) throw new UsageError(`unknown option --${name}`);
    if (type === 'boolean') {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
    } else {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
        value = argv[++i];
      }
      out[name] = value;
    }
  }
  return out;
}

export function list(value, parse, name) {
  return String(value).split(',').map((s) => {
    const v = parse(s.trim());
    if (v === undefined || Number.isNaN(v)) throw new UsageError(`bad value in --${name}: ${s}`);
    return v;
  });
}

export const positiveInt = (s) => (/^[1-9][0-9]*$/.test(s) ? Number(s) : undefined);

export function intArg(args, name, dflt, min = 1) {
  if (args[name] === undefined) return dflt;
  const v = /^[0-9]+$/.test(args[name]) ? Number(args[name]) : NaN;
  if (!(v >= min)) throw new UsageError(`--${name} must be an integer >= ${min}, not ${args[name]}`);
  return v;
}

export function choice(args, name, options) {
  const v = args[name];
  if (v !== undefined && !options.includes(v)) throw new UsageError(`--${name} must be one of ${options.join(', ')}, not ${v}`);
  return v;
}
