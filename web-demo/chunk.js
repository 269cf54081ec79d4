// chunk.js - splits documents into passages for the demo's text index. Pure and
// deterministic (no DOM), so the end-to-end test chunks the same corpus the same way in Node.
//
// Passages follow the text's own structure: paragraphs (blank lines) are packed together up to
// maxChars; a longer paragraph is split at sentence ends, and a longer sentence at a space.
// Every chunk knows its [start, end) in the document (UTF-16 indices), so the demo can show a
// result inside its document with the matching passage highlighted.

/** The demo's passage size in characters (about 60 English words). */
export const PASSAGE_CHARS = 360;

/**
 * @typedef {{text: string, start: number, end: number}} Chunk
 * @param {string} text
 * @param {{mode?: 'passages' | 'document', maxChars?: number}} [opts]
 *   'document': the whole text is one chunk (embedded through the long-context path).
 * @returns {Chunk[]}
 */
export function chunkText(text, opts = {}) {
  const mode = opts.mode ?? 'passages';
  const maxChars = opts.maxChars ?? 500;
  const trimmed = trimSpan(text, 0, text.length);
  if (!trimmed) return [];
  if (mode === 'document') return [trimmed];
  // Pieces no longer than maxChars, in order: paragraphs, else sentences, else words.
  const pieces = [];
  for (const para of spans(text, /\n\s*\n/g)) {
    if (para.end - para.start <= maxChars) { pieces.push(para); continue; }
    for (const sent of spans(text, /(?<=[.!?])\s+/g, para.start, para.end)) {
      if (sent.end - sent.start <= maxChars) { pieces.push(sent); continue; }
      let s = sent.start;
      while (s < sent.end) {
        let e = Math.min(sent.end, s + maxChars);
        if (e < sent.end) {
          const sp = text.lastIndexOf(' ', e);
          if (sp > s) e = sp;
        }
        const part = trimSpan(text, s, e);
        if (part) pieces.push(part);
        s = e;
      }
    }
  }
  // Pack consecutive pieces while they fit.
  const out = [];
  let cur = null;
  for (const p of pieces) {
    if (cur && p.end - cur.start <= maxChars) cur = { start: cur.start, end: p.end };
    else {
      if (cur) out.push(cur);
      cur = { start: p.start, end: p.end };
    }
  }
  if (cur) out.push(cur);
  return out.map((c) => ({ text: text.slice(c.start, c.end), start: c.start, end: c.end }));
}

/** The non-blank [start, end) spans of text[from, to) between matches of sep. */
function spans(text, sep, from = 0, to = text.length) {
  const out = [];
  const re = new RegExp(sep.source, 'g');
  const part = text.slice(from, to);
  let last = 0;
  for (const m of part.matchAll(re)) {
    const s = trimSpan(text, from + last, from + m.index);
    if (s) out.push(s);
    last = m.index + m[0].length;
  }
  const s = trimSpan(text, from + last, to);
  if (s) out.push(s);
  return out;
}

/** text[start, end) without surrounding whitespace, as a span, or null if blank. */
function trimSpan(text, start, end) {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return end > start ? { text: text.slice(start, end), start, end } : null;
}

/**
 * Words of a query worth highlighting in a result (3+ letters, lower case, no duplicates).
 * @param {string} query
 */
export function queryTerms(query) {
  return [...new Set((query.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []))];
}
