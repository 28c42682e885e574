/**
 * An in-memory `ReceiveTarget` that keeps its bytes across transfers, so a
 * second `receiveFile` of the same file resumes where the first one stopped.
 * It also counts how the receiver used it (opens, finishes, aborts), which the
 * cleanup checks read.
 */
import { Observable } from 'rxjs';
import type { Bytes, Chunk, Manifest, ReceiveTarget } from '../../src/index';
import type { OpenHints } from '../../src/transfer/ReceiveTarget';

/** A resumable in-memory target and what the receiver did with it. */
export interface MemoryTarget extends ReceiveTarget {
  /** Bytes `[0, persisted)` are held: written in order by earlier sessions. */
  readonly persisted: number;
  /** The held bytes (a copy). */
  bytes(): Uint8Array;
  /** `open()` calls, with the `from` each one returned. */
  readonly opens: number[];
  /** `finish()` calls. */
  readonly finishes: number;
  /** `abort()` calls, with their reasons. */
  readonly aborts: unknown[];
}

/** Options of {@link memoryTarget}. */
export interface MemoryTargetConfig {
  /** Offer the held prefix for resume. Default `true`; `false` always starts at 0. */
  readonly resume?: boolean;
  /** Called after each chunk is persisted, with the total now held. */
  readonly onPersisted?: (total: number) => void;
  /** Bytes already held for a file (as if an earlier session had written them). */
  readonly preload?: { readonly name: string; readonly size: number; readonly lastModified?: number; readonly bytes: Uint8Array };
}

const keyOf = (m: { name: string; size: number; lastModified?: number }): string => `${m.name}\u0000${m.size}\u0000${m.lastModified ?? ''}`;

/**
 * A target that holds one file in memory. A later `open()` for a manifest with
 * the same name, size and `lastModified` resumes at the held prefix; any other
 * manifest starts fresh. Chunks must arrive in order, without gaps: anything
 * else errors the sink (the receiver's pipeline guarantees it).
 */
export function memoryTarget(config: MemoryTargetConfig = {}): MemoryTarget {
  const resume = config.resume ?? true;
  // The file being held and how much of it is written.
  let key: string | undefined;
  let buffer = new Uint8Array(0);
  let persisted = 0;
  if (config.preload) {
    key = keyOf(config.preload);
    buffer = new Uint8Array(config.preload.size);
    buffer.set(config.preload.bytes);
    persisted = config.preload.bytes.length;
  }
  const opens: number[] = [];
  const aborts: unknown[] = [];
  let finishes = 0;

  return {
    get persisted() {
      return persisted;
    },
    bytes: () => buffer.slice(0, persisted),
    opens,
    get finishes() {
      return finishes;
    },
    aborts,
    // What a later open would resume from, without touching anything (the receiver asks before `accept`).
    held: (manifest: Manifest) => (resume && keyOf(manifest) === key ? persisted : 0),
    open: (manifest: Manifest, hints?: OpenHints) => {
      const k = keyOf(manifest);
      if (k !== key || !resume || hints?.resume === false) {
        key = k;
        buffer = new Uint8Array(manifest.size);
        persisted = 0;
      }
      const from = persisted;
      opens.push(from);
      return {
        from,
        prefix: () =>
          new Observable<Bytes>((subscriber) => {
            subscriber.next(buffer.slice(0, from));
            subscriber.complete();
          }),
        sink: (source: Observable<Chunk>) =>
          new Observable<number>((subscriber) => {
            // Bytes written in this session.
            let session = 0;
            const sub = source.subscribe({
              next: (c) => {
                if (c.offset !== from + session || c.offset + c.data.length > buffer.length) {
                  subscriber.error(new Error(`memoryTarget: chunk ${c.index} at ${c.offset} (+${c.data.length}) does not continue ${from + session}`));
                  return;
                }
                buffer.set(c.data, c.offset);
                session += c.data.length;
                persisted = from + session;
                subscriber.next(session);
                config.onPersisted?.(persisted);
              },
              error: (e) => subscriber.error(e),
              complete: () => subscriber.complete(),
            });
            return () => sub.unsubscribe();
          }),
        finish: () => {
          finishes++;
          return buffer.slice(0, persisted);
        },
        abort: (reason: unknown) => {
          aborts.push(reason);
          // As directoryTarget: held bytes that failed the digest are wrong, so the next open starts at 0.
          if ((reason as { code?: string })?.code === 'ERR_HASH_MISMATCH' && (reason as { index?: number }).index === -1) {
            key = undefined;
            persisted = 0;
          }
        },
      };
    },
  };
}
