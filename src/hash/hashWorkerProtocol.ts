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
 * | any    | `crc` (bytes, lengths;          | answers `crc` with the CRC-32 of each  | same   |
 * |        | transferred)                    | piece, the buffer with it (transferred)|        |
 * | open   | `crc` with `sha` = this id      | hashes the bytes into hasher `sha`, in | open   |
 * |        |                                 | order, then answers `crc` as above     |        |
 * | any    | anything else                   | answers `error` for that id            | (none) |
 *
 * An `update` to a hasher that is not open (or failed) still gets its buffer back, after its `error`. A `crc`
 * whose `lengths` do not add up to its bytes answers `error` and hands the buffer back with `buffer`.
 * A `crc` carries the payloads of a few chunks back to back (the page's batch); `id` is the request's, not a
 * hasher's. With `sha`, the same bytes also update that hasher, after its earlier updates: a sender hands
 * each byte over once for both hashes. A `sha` hasher that is not open answers `error` for both ids.
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
  /** `data` is a view from byte 0 of a pooled buffer, transferred: pieces of `lengths[i]` bytes, back to back. */
  | { readonly t: 'crc'; readonly id: number; readonly data: Uint8Array; readonly lengths: readonly number[]; readonly sha?: number };

/** Worker → page. */
export type HashWorkerReply =
  | { readonly t: 'ready' }
  | { readonly t: 'unavailable'; readonly message: string }
  | { readonly t: 'buffer'; readonly buffer: ArrayBuffer }
  | { readonly t: 'digest'; readonly id: number; readonly hex: string }
  /** The CRC-32 of each piece, in order, and the request's buffer, transferred back. */
  | { readonly t: 'crc'; readonly id: number; readonly values: readonly number[]; readonly buffer: ArrayBuffer }
  | { readonly t: 'error'; readonly id: number; readonly message: string };
