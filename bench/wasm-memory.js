// wasm-memory.js - finds every WebAssembly.Memory the engines instantiate, so a benchmark can
// read their sizes without knowing either engine's internals (onnxruntime-web keeps its module
// private). Import it, and call `watchWasmMemories()`, before the engines are imported: it wraps
// WebAssembly.instantiate / instantiateStreaming and collects the memories found among the
// imports and the exports. A memory only grows, so its size at the end is its peak.

const found = new Set();

function collect(obj) {
  if (!obj || typeof obj !== 'object') return;
  for (const v of Object.values(obj)) {
    if (v instanceof WebAssembly.Memory) found.add(v);
    else if (v && typeof v === 'object' && !(v instanceof WebAssembly.Module) && !ArrayBuffer.isView(v)) {
      for (const w of Object.values(v)) if (w instanceof WebAssembly.Memory) found.add(w);
    }
  }
}

let installed = false;

/** Wraps WebAssembly.instantiate and instantiateStreaming once per realm. */
export function watchWasmMemories() {
  if (installed) return;
  installed = true;
  const wa = /** @type {any} */ (WebAssembly);
  const inst = wa.instantiate.bind(WebAssembly);
  wa.instantiate = async (src, imports) => {
    collect(imports);
    const r = await inst(src, imports);
    collect((r.instance ?? r).exports);
    return r;
  };
  if (wa.instantiateStreaming) {
    const str = wa.instantiateStreaming.bind(WebAssembly);
    wa.instantiateStreaming = async (src, imports) => {
      collect(imports);
      const r = await str(src, imports);
      collect(r.instance.exports);
      return r;
    };
  }
}

/** Bytes of every wasm memory seen so far (each counted once). */
export function wasmMemoryBytes() {
  let n = 0;
  for (const m of found) n += m.buffer.byteLength;
  return n;
}

/** How many distinct memories were seen. */
export function wasmMemoryCount() {
  return found.size;
}
