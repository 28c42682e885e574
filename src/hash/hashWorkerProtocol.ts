/**
 * The messages between a page and its hash worker (src/hash/hashWorker.ts), as a table.
 *
 * Each hasher has an `id` chosen by the page. Per id:
 *
 * | state  | page → worker                   | worker does                            | next   |
 * |--------|---------------------------------|----------------------------------------|--------|
 * | (none) | `open`                          | starts a SHA-256                       | open   |
 * | open   | `update` (bytes, transferred)   | hashes them, in order                  | open   |
 * | open   | `digest`                        | answers `digest` with the hex          | (none) |
 * | open   | `close`                         | drops the hasher (its owner gave up)   | (none) |
 * | any    | `crc` (bytes, seed)             | answers `crc` with the CRC-32          | same   |
 * | any    | anything else                   | answers `error` for that id            | (none) |
 *
 * The worker says `ready` once, when it has loaded (the page falls back to hashing on its own thread when
 * that never comes: no Worker, or a Content-Security-Policy without `worker-src blob:`).
 */

/** Page → worker. */
export type HashWorkerRequest =
  | { readonly t: 'open'; readonly id: number }
  | { readonly t: 'update'; readonly id: number; readonly data: Uint8Array }
  | { readonly t: 'digest'; readonly id: number }
  | { readonly t: 'close'; readonly id: number }
  | { readonly t: 'crc'; readonly id: number; readonly data: Uint8Array; readonly seed: number };

/** Worker → page. */
export type HashWorkerReply =
  | { readonly t: 'ready' }
  | { readonly t: 'digest'; readonly id: number; readonly hex: string }
  | { readonly t: 'crc'; readonly id: number; readonly value: number }
  | { readonly t: 'error'; readonly id: number; readonly message: string };
