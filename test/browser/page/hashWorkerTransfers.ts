/**
 * Page side of test/browser/hashWorker.spec.ts and bench/hashWorker.ts, bundled from src/ by the Chromium
 * runner as `window.bundles.hashWorker`.
 *
 * - `Worker` is wrapped (once, when this bundle loads, before any transfer) to count the workers the page
 *   starts and the bytes it posts to them in `update` requests (SHA-256) and `crc` requests (the chunks' CRC-32).
 * - `transfer` sends `patternBytes(size, seed)` as a Blob between two peer connections of this page with
 *   the default Blob target, hashing in the library's worker (`hashOn: 'worker'`, the default path) or on
 *   the main thread (`'main'`: WebAssembly SHA-256 through the `createHash` option, as before the worker), and
 *   records the page's long tasks (PerformanceObserver `longtask`) while it runs.
 */
import { receiveFile, sendFile, type TransferEvent } from '../../../src/index';
import { connectInProcess } from '../../../src/connect/connectInProcess';
import { createSha256Wasm } from '../../../src/hash/sha256Wasm';
import { patternBytes } from '../../harness/pump';

/** What the wrapped Worker saw: workers started or refused (a CSP throws), and what went to them. */
const seen = { workers: 0, refused: 0, names: [] as string[], updates: 0, updateBytes: 0, digests: 0, crcs: 0, crcPieces: 0, crcBytes: 0, hashedCrcBytes: 0, cspViolations: [] as string[] };

document.addEventListener('securitypolicyviolation', (e) => seen.cspViolations.push(`${e.effectiveDirective} ${e.blockedURI}`));

const NativeWorker = globalThis.Worker;
globalThis.Worker = class extends NativeWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    try {
      super(url, options);
    } catch (err) {
      seen.refused++;
      throw err;
    }
    seen.workers++;
    seen.names.push(options?.name ?? '');
  }
  override postMessage(message: any, transfer?: any): void {
    if (message?.t === 'update') {
      seen.updates++;
      seen.updateBytes += message.data.byteLength;
    } else if (message?.t === 'digest') seen.digests++;
    else if (message?.t === 'crc') {
      seen.crcs++;
      seen.crcPieces += message.lengths.length;
      seen.crcBytes += message.data.byteLength;
      // A sender's chunks: the same bytes update its SHA-256 hasher too.
      if (message.sha !== undefined) seen.hashedCrcBytes += message.data.byteLength;
    }
    super.postMessage(message, transfer);
  }
} as typeof Worker;

/** Options of one transfer. */
export interface HashRunOptions {
  size: number;
  seed: number;
  /** Where SHA-256 runs: the library's default (its worker) or hash-wasm on the main thread. */
  hashOn: 'worker' | 'main';
  timeoutMs?: number;
}

/** What one transfer gave. */
export interface HashRunResult {
  outcome: 'completed' | 'error' | 'timeout';
  error?: string;
  sourceSha256: string;
  senderSha256?: string;
  receiverSha256?: string;
  /** WebCrypto SHA-256 of the received Blob. */
  receivedSha256?: string;
  ms: number;
  mbps: number;
  /** Long tasks of this page during the transfer, ms each. */
  longTasksMs: number[];
  /** What the wrapped Worker saw during this transfer. */
  workers: typeof seen;
}

const hex = (buf: ArrayBuffer): string => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
const subtleHex = async (blob: Blob): Promise<string> => hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));

/** Runs one transfer between two fresh peer connections of this page. */
export async function transfer(options: HashRunOptions): Promise<HashRunResult> {
  const { size, seed, hashOn, timeoutMs = 120_000 } = options;
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  await connectInProcess(a, b);
  const file = new Blob([patternBytes(size, seed)], { type: 'application/octet-stream' });
  const sourceSha256 = await subtleHex(file);
  const before = { ...seen, names: [...seen.names], cspViolations: [...seen.cspViolations] };
  const createHash = hashOn === 'main' ? createSha256Wasm : undefined;
  const longTasksMs: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasksMs.push(e.duration)));
  observer.observe({ type: 'longtask', buffered: false });
  const result: HashRunResult = { outcome: 'timeout', sourceSha256, ms: 0, mbps: 0, longTasksMs, workers: seen };
  let received: Blob | undefined;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let open = 2;
    const end = () => --open === 0 && resolve();
    const timer = setTimeout(() => {
      rx.unsubscribe();
      tx.unsubscribe();
      resolve();
    }, timeoutMs);
    const fail = (err: unknown) => {
      result.outcome = 'error';
      result.error ??= String((err as Error)?.stack ?? err);
      clearTimeout(timer);
      resolve();
    };
    const rx = receiveFile(b, { createHash }).subscribe({
      next: (e: TransferEvent) => {
        if (e.type !== 'completed') return;
        result.receiverSha256 = e.sha256;
        received = e.result as Blob;
      },
      error: fail,
      complete: () => (end(), open === 0 && clearTimeout(timer)),
    });
    const tx = sendFile(a, file, { name: 'hash.bin', createHash }).subscribe({
      next: (e: TransferEvent) => void (e.type === 'completed' && (result.senderSha256 = e.sha256)),
      error: fail,
      complete: () => (end(), open === 0 && clearTimeout(timer)),
    });
  });
  result.ms = performance.now() - started;
  result.mbps = (size * 8) / result.ms / 1000;
  // Long tasks are reported after they end: let the last one arrive, then stop looking.
  await new Promise((r) => setTimeout(r, 100));
  observer.disconnect();
  if (result.outcome === 'timeout' && received) result.outcome = 'completed';
  if (received) result.receivedSha256 = await subtleHex(received);
  result.workers = {
    workers: seen.workers - before.workers,
    refused: seen.refused - before.refused,
    names: seen.names.slice(before.names.length),
    cspViolations: seen.cspViolations.slice(before.cspViolations.length),
    updates: seen.updates - before.updates,
    updateBytes: seen.updateBytes - before.updateBytes,
    digests: seen.digests - before.digests,
    crcs: seen.crcs - before.crcs,
    crcPieces: seen.crcPieces - before.crcPieces,
    crcBytes: seen.crcBytes - before.crcBytes,
    hashedCrcBytes: seen.hashedCrcBytes - before.hashedCrcBytes,
  };
  a.close();
  b.close();
  return result;
}
