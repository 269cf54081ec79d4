// names.js - the options that take a name, and their values. The engine defines them once, in
// src/wembed.h (WEMBED_OPTION_NAMES), and hands them over as engine.consts:
//   { dtype: { f32: 0, ... }, pooling: { none: 0, mean: 1, ... }, truncate: {...},
//     rope_scaling: {...}, ntk_length: {...}, quantize: {...}, status: {...}, default: {...} }
// An option is named in snake_case there; the JS API spells it in camelCase (ropeScaling) and
// the CLI in kebab-case (--rope-scaling). Nothing in js/ lists the values again: validation,
// error messages and the CLI's usage text read them from engine.consts. The one exception is
// the TypeScript types below, which must be static; tests/js/names.test.js checks them against
// the engine's table.

import { WembedError } from './errors.js';

/**
 * @typedef {'f32'|'f16'|'q8'|'q4'} Dtype weights in memory: float32, float16, int8 with a scale per row, or 4-bit blocks of 32 with a scale each (token embeddings int8)
 * @typedef {'none'|'mean'|'cls'|'eos'|'last'|'max'|'mean_sqrt_len'|'weighted_mean'} Pooling 'none' = per-token vectors
 * @typedef {'truncate'|'error'|'chunk'|'extend'} Truncate what to do with inputs longer than the token limit
 *   ('extend': run them whole with the model's extension method, info().extension)
 * @typedef {'model'|'none'|'linear'|'ntk'|'dynamic-ntk'} RopeScaling 'model' = as the model's config says
 * @typedef {'own'|'padded'} NtkLength dynamic NTK length: each input's own, or the batch's longest
 * @typedef {'none'|'int8'|'binary'} Quantize output as Float32Array, Int8Array or packed bits (Uint8Array)
 */

/** The engine's table of names: option -> value name -> number. @typedef {Record<string, Record<string, number>>} Consts */

/** An option as the JS API spells it: rope_scaling -> ropeScaling. @param {string} option */
export const jsName = (option) => option.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** An option as the CLI spells it: rope_scaling -> --rope-scaling. @param {string} option */
export const flagName = (option) => `--${option.replaceAll('_', '-')}`;

/** The value names of an option, in the engine's order. @param {Consts} consts @param {string} option */
export const valueNames = (consts, option) => Object.keys(consts[option]);

/**
 * The number of a named value; a WembedError naming the values there are for anything else.
 * @param {Consts} consts engine.consts
 * @param {string} option the table's name of the option (snake_case)
 * @param {unknown} value
 * @param {string} [shown] the option as the caller spelled it, for the message (default: the JS name)
 * @returns {number}
 */
export function valueOf(consts, option, value, shown = jsName(option)) {
  const names = consts[option];
  if (typeof value === 'string' && Object.hasOwn(names, value)) return names[value];
  throw new WembedError('invalid_argument',
    `${shown} must be one of ${Object.keys(names).map((x) => `'${x}'`).join(', ')}, not ${JSON.stringify(value)}`);
}
