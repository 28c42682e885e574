/**
 * Incremental SHA-256 on a 0.8 KB WebAssembly module of our own (sha256.wat: the compression function,
 * looped), for the hash worker: hash-wasm's unrolled module is 9.5 KB and its loader several more, which
 * every browser app paid for in its bundle. This file buffers partial blocks, pads, and reads the digest.
 *
 * Synchronous: the module is small enough to compile on any thread (`new WebAssembly.Module`), once per
 * realm, and each hasher is an instance with its own memory. It throws where WebAssembly is missing or a
 * Content-Security-Policy forbids compiling it (no `'wasm-unsafe-eval'`).
 */
import { SHA256_WASM_BASE64 } from './sha256WasmBytes';

/** Where the module reads its input blocks (sha256.wat's memory map), and how much of it one call may fill. */
const INPUT_AT = 1024;
const INPUT_BYTES = 64 * 1024;
/** FIPS 180-4's initial hash value. */
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** The incremental hasher, shaped as hash-wasm's (init, update, digest) so the hash worker takes either. */
export interface Sha256Small {
  init(): Sha256Small;
  update(data: Uint8Array): Sha256Small;
  /** Lowercase hex, as `sha256sum` prints it; once per `init()`. */
  digest(format: 'hex'): string;
}

let compiled: WebAssembly.Module | undefined;

const wasmModule = (): WebAssembly.Module => {
  if (!compiled) {
    const text = atob(SHA256_WASM_BASE64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
};

/** A fresh hasher, initialised. */
export function createSha256Small(): Sha256Small {
  const { exports } = new WebAssembly.Instance(wasmModule());
  const memory = exports.memory as WebAssembly.Memory;
  const compress = exports.compress as (at: number, blocks: number) => void;
  const bytes = new Uint8Array(memory.buffer);
  // WebAssembly memory is little-endian on every host: the state's words are read and written as such.
  const view = new DataView(memory.buffer);
  // Bytes at INPUT_AT not compressed yet (fewer than 64 between calls).
  let pending = 0;
  // Bytes hashed since init().
  let length = 0;

  const hasher: Sha256Small = {
    init() {
      H0.forEach((word, i) => view.setUint32(4 * i, word, true));
      pending = 0;
      length = 0;
      return hasher;
    },
    update(data) {
      length += data.length;
      for (let at = 0; at < data.length; ) {
        const n = Math.min(data.length - at, INPUT_BYTES - pending);
        bytes.set(data.subarray(at, at + n), INPUT_AT + pending);
        at += n;
        pending += n;
        const whole = pending & ~63;
        if (whole) compress(INPUT_AT, whole >>> 6);
        if (pending > whole) bytes.copyWithin(INPUT_AT, INPUT_AT + whole, INPUT_AT + pending);
        pending -= whole;
      }
      return hasher;
    },
    digest() {
      // 0x80, zeros, then the length in bits as a 64-bit big-endian integer, in one block or two.
      const end = pending + 9 <= 64 ? 64 : 128;
      bytes[INPUT_AT + pending] = 0x80;
      bytes.fill(0, INPUT_AT + pending + 1, INPUT_AT + end);
      view.setUint32(INPUT_AT + end - 8, Math.floor(length / 0x20000000));
      view.setUint32(INPUT_AT + end - 4, (length * 8) >>> 0);
      compress(INPUT_AT, end >>> 6);
      let hex = '';
      for (let i = 0; i < 8; i++) hex += view.getUint32(4 * i, true).toString(16).padStart(8, '0');
      return hex;
    },
  };
  return hasher.init();
}
