// inputs.js - the benchmark's inputs, identical for both engines and every run: 64 short
// sentences of 8 to 64 tokens, documents of exactly 512, 2048 and 8192 tokens, a query and 20
// passages of 200 tokens for reranking (all counted with the BERT vocabulary's tokenizer, [CLS]
// and [SEP] included), and 16 synthetic RGB photos.
//
// Texts are made of words that are one WordPiece token each (checked by the caller's tokenizer,
// see makeTexts), so a sentence of k words and a full stop is k + 1 tokens and lengths come out
// exact. Images are drawn by a seeded generator (gradients, discs, stripes and noise, so the
// resize has edges and texture to work on), the same bytes in Node and in a browser.

const WORDS = (
  'the of and to in is was he for it with as his on be at by had are but from or have an they which ' +
  'one you were her all she there would their we him been has when who will more no if out so said ' +
  'what up its about into than them can only other new some could time these two may then do first ' +
  'any my now such like our over man me even most made after also did many before must through back ' +
  'years where much your way well down should because each just those people how too little state ' +
  'good very make world still own see men work long get here between both life being under never day ' +
  'same another know while last might us great old year off come since against go came right used take ' +
  'three states himself few house use during without again place american around however home small ' +
  'found thought went say part once general high upon school every don does got united left number ' +
  'course war until always away something fact though water less public put think almost hand enough ' +
  'far took head yet government system better set told nothing night end why called didn eyes find going ' +
  'look asked later knew point next city give group toward young let room president side social present ' +
  'given several order national possible rather second face per among form important often things early ' +
  'white case large become need big four within felt along children saw best church ever least power ' +
  'development light thing seemed family interest want members mind country area others done turned ' +
  'although open god service problem certain kind different thus began door help means sense whole ' +
  'matter perhaps itself york times human law line above name example action company hands local show ' +
  'five history whether gave either today act feet across taken past quite anything seen having death ' +
  'experience body word half really week field car words already information tell together college shall ' +
  'money period held keep sure probably free seems political real behind cannot miss question air office ' +
  'making brought whose special heard major problems ago became federal moment study available known ' +
  'result street economic boy position reason change south board individual job areas society west close ' +
  'turn love community true court force full seem am wife age policy voice art mother care'
).split(' ');

/** xorshift32 in [0, 1). */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * The texts, with their token counts checked by `countTokens` (the tokenizer both models use).
 * @param {(text: string) => number} countTokens tokens of a text, specials included
 * @returns {{short: string[], shortTokens: number[], docs: Record<string, string>, words: number}}
 */
export function makeTexts(countTokens) {
  const words = WORDS.filter((w) => countTokens(w) === 3);   // [CLS] w [SEP]
  if (words.length < 200) throw new Error(`only ${words.length} single-token words: is this a BERT-vocabulary tokenizer?`);
  const r = rng(2024);
  const sentence = (nTok) => {   // nTok - 3 words + '.' between [CLS] and [SEP]
    const ws = [];
    for (let i = 0; i < nTok - 3; i++) ws.push(words[Math.floor(r() * words.length)]);
    ws[0] = ws[0][0].toUpperCase() + ws[0].slice(1);
    return ws.join(' ') + '.';
  };
  // 64 lengths spread evenly over [8, 64], in a shuffled order.
  const lens = Array.from({ length: 64 }, (_, i) => 8 + Math.round((i * 56) / 63));
  for (let i = lens.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [lens[i], lens[j]] = [lens[j], lens[i]];
  }
  const short = lens.map(sentence);
  const docs = {};
  for (const N of [512, 2048, 8192]) {
    // Sentences of 10-30 tokens' worth of content until N - 2 content tokens, the last one cut to fit.
    const parts = [];
    let left = N - 2;
    while (left > 0) {
      let k = Math.min(left, 10 + Math.floor(r() * 21));
      if (left - k === 1) k -= 1;             // a sentence needs one word and its full stop
      if (k < 2) k = left;
      parts.push(sentence(k + 2));
      left -= k;
    }
    docs[N] = parts.join(' ');
  }
  // Reranking: one query and 20 passages of 200 tokens each ([CLS] and [SEP] included), drawn
  // from a generator of their own so that the texts above stay as they were.
  const r2 = rng(4242);
  const sentence2 = (nTok) => {
    const ws = [];
    for (let i = 0; i < nTok - 3; i++) ws.push(words[Math.floor(r2() * words.length)]);
    ws[0] = ws[0][0].toUpperCase() + ws[0].slice(1);
    return ws.join(' ') + '.';
  };
  const query = sentence2(12).replace(/\.$/, '?');
  const passages = Array.from({ length: 20 }, () => {
    const parts = [];
    for (let left = 198; left > 0;) {
      let k = Math.min(left, 10 + Math.floor(r2() * 21));
      if (left - k === 1) k -= 1;
      if (k < 2) k = left;
      parts.push(sentence2(k + 2));
      left -= k;
    }
    return parts.join(' ');
  });
  const shortTokens = short.map(countTokens);
  lens.forEach((n, i) => { if (shortTokens[i] !== n) throw new Error(`sentence ${i}: ${shortTokens[i]} tokens, wanted ${n}`); });
  for (const N of Object.keys(docs)) {
    const n = countTokens(docs[N]);
    if (n !== Number(N)) throw new Error(`document ${N}: ${n} tokens`);
  }
  const passageTokens = passages.map(countTokens);
  passageTokens.forEach((n, i) => { if (n !== 200) throw new Error(`passage ${i}: ${n} tokens`); });
  // A pair is [CLS] query [SEP] passage [SEP]: the query's tokens and the passage's less its [CLS].
  const rerank = { query, passages, pairTokens: passageTokens.map((n) => countTokens(query) + n - 1) };
  return { short, shortTokens, docs, words: words.length, rerank };
}

/**
 * n synthetic RGB photos (width x height, 3 bytes per pixel), the same bytes everywhere.
 * @returns {Array<{data: Uint8Array, width: number, height: number, channels: 3}>}
 */
export function makeImages(n = 16, width = 640, height = 480) {
  const out = [];
  for (let k = 0; k < n; k++) {
    const r = rng(7 + k * 101);
    const data = new Uint8Array(width * height * 3);
    const c0 = [r() * 255, r() * 255, r() * 255], c1 = [r() * 255, r() * 255, r() * 255];
    const discs = Array.from({ length: 6 }, () => ({ x: r() * width, y: r() * height, rad: 20 + r() * 120, c: [r() * 255, r() * 255, r() * 255] }));
    const period = 6 + r() * 40, angle = r() * Math.PI;
    const ca = Math.cos(angle), sa = Math.sin(angle);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const t = (x / width + y / height) / 2;
        const stripe = Math.sin(((x * ca + y * sa) / period) * 2 * Math.PI) > 0.6 ? 40 : 0;
        let px = [c0[0] * (1 - t) + c1[0] * t + stripe, c0[1] * (1 - t) + c1[1] * t + stripe, c0[2] * (1 - t) + c1[2] * t + stripe];
        for (const d of discs) {
          if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.rad * d.rad) px = d.c;
        }
        const o = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) data[o + c] = Math.max(0, Math.min(255, Math.round(px[c] + (r() - 0.5) * 24)));
      }
    }
    out.push({ data, width, height, channels: 3 });
  }
  return out;
}
