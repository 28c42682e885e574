/**
 * The messages between a page and its hash worker (src/hash/hashWorker.ts), as a table.
 *
 * Each hasher has an `id` chosen by the page. Per id:
 *
 * | state  | page → worker                   | worker does                            | next   |
 * |--------|---------------------------------|----------------------------------------|--------|
 * | (none) | `open`                          | starts a SHA-256                       | open   |
 * | open   | `update` (bytes, transferred)   | hashes them, in order; hands the       | open   |
 * |        |                                 | buffer back (`buffer`, transferred)    |        |
 * | open   | `digest`                        | answers `digest` with the hex          | (none) |
 * | open   | `close`                         | drops the hasher (its owner gave up)   | (none) |
 * | any    | `crc` (bytes, seed)             | answers `crc` with the CRC-32          | same   |
 * | any    | anything else                   | answers `error` for that id            | (none) |
 *
 * An `update` to a hasher that is not open (or failed) still gets its buffer back, after its `error`.
 *
 * The worker says `ready` once, when it has loaded and made a SHA-256, or `unavailable` when it cannot (a
 * Content-Security-Policy without `'wasm-unsafe-eval'`). The page falls back to hashing on its own thread
 * when `ready` does not come: no Worker, a CSP without `worker-src blob:`, or `unavailable`.
 */

/** Page → worker. */
export type HashWorkerRequest =
  | { readonly t: 'open'; readonly id: number }
  /** `data` is a view from byte 0 of a pooled buffer, transferred; the worker hands the buffer back. */
  | { readonly t: 'update'; readonly id: number; readonly data: Uint8Array }
  | { readonly t: 'digest'; readonly id: number }
  | { readonly t: 'close'; readonly id: number }
  | { readonly t: 'crc'; readonly id: number; readonly data: Uint8Array; readonly seed: number };

/** Worker → page. */
export type HashWorkerReply =
  | { readonly t: 'ready' }
  | { readonly t: 'unavailable'; readonly message: string }
  | { readonly t: 'buffer'; readonly buffer: ArrayBuffer }
  | { readonly t: 'digest'; readonly id: number; readonly hex: string }
  | { readonly t: 'crc'; readonly id: number; readonly value: number }
  | { readonly t: 'error'; readonly id: number; readonly message: string };
