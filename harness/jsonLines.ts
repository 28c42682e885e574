/**
 * JSON-lines messaging between the harness parent and its child processes (stdin/stdout).
 *
 * Gotcha: anything else the child prints on stdout would corrupt the stream, so child
 * scripts send `console.log`/`info`/`debug` to stderr (see `redirectConsoleToStderr`).
 * Lines that are not JSON are handed to `onInvalid` instead of throwing.
 */
import * as readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { SignalMessage, SignalTransport } from './signalling';

/** Everything that crosses the parent ↔ child pipe. */
export type Envelope =
  | { t: 'signal'; lane: number; msg: SignalMessage }
  /** Child: connected, channels open, module started (its synchronous part has run). */
  | { t: 'ready' }
  /** Free-form messages between the test and the child's module. */
  | { t: 'user'; data: unknown }
  /** Child: the module's default export resolved with `value`. */
  | { t: 'result'; value: unknown }
  /** Child: setup or the module failed. */
  | { t: 'error'; message: string; stack?: string }
  /** Parent: close everything and exit. */
  | { t: 'close' };

/** A bidirectional JSON message pipe. */
export interface JsonPort<T> {
  send(message: T): void;
  /** Registers a handler; returns an unregister function. */
  onMessage(handler: (message: T) => void): () => void;
  /** Stops reading; does not end the output stream. */
  close(): void;
}

/** Wraps a readable/writable pair as a {@link JsonPort} of one JSON value per line. */
export function createJsonLinePort<T>(input: Readable, output: Writable, onInvalid: (line: string) => void = () => undefined): JsonPort<T> {
  const handlers = new Set<(message: T) => void>();
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let message: T;
    try {
      message = JSON.parse(line) as T;
    } catch {
      onInvalid(line);
      return;
    }
    for (const handler of [...handlers]) handler(message);
  });
  return {
    send(message) {
      if (!output.writableEnded && !output.destroyed) output.write(JSON.stringify(message) + '\n');
    },
    onMessage(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    close() {
      handlers.clear();
      lines.close();
    },
  };
}

/** The signalling transport of one lane, multiplexed over an envelope port. */
export function laneTransport(port: JsonPort<Envelope>, lane: number): SignalTransport {
  return {
    send: (msg) => port.send({ t: 'signal', lane, msg }),
    onMessage: (handler) => port.onMessage((e) => e.t === 'signal' && e.lane === lane && handler(e.msg)),
  };
}

/** The test ↔ module message port: `send`, listen with `onMessage`, or await `next()`. */
export interface HarnessPort {
  send(data: unknown): void;
  onMessage(handler: (data: unknown) => void): () => void;
  /** The next message not consumed by an `onMessage` handler; rejects after `timeoutMs` (default 30 s). */
  next(timeoutMs?: number): Promise<unknown>;
}

/**
 * Builds the user-level port on top of an envelope port. Messages that arrive while no
 * `onMessage` handler is registered are queued for `next()`.
 */
export function createHarnessPort(port: JsonPort<Envelope>): HarnessPort {
  const handlers = new Set<(data: unknown) => void>();
  // Messages nobody has taken yet.
  const queue: unknown[] = [];
  // Pending next() calls.
  const waiters: Array<(data: unknown) => void> = [];
  port.onMessage((e) => {
    if (e.t !== 'user') return;
    if (handlers.size) handlers.forEach((h) => h(e.data));
    else if (waiters.length) waiters.shift()!(e.data);
    else queue.push(e.data);
  });
  return {
    send: (data) => port.send({ t: 'user', data }),
    onMessage(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    next(timeoutMs = 30_000) {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const waiter = (data: unknown): void => {
          clearTimeout(timer);
          resolve(data);
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no message within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}

/** Sends `console.log`, `info` and `debug` to stderr so stdout carries only JSON lines. */
export function redirectConsoleToStderr(): void {
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
}
