/**
 * Child-process entry of the link emulator: runs a {@link UdpRelay} and answers
 * calls from `startLinkEmulator` over Node's IPC channel. Running it in its own
 * process keeps its CPU time and memory out of the transfer process's figures.
 *
 * Messages: `{ id, method, args }` in, `{ id, result }` or `{ id, error }` out;
 * `{ ready: true }` once listening. Exits when the parent disconnects.
 */
import type { LinkConfig } from './linkConfig';
import { UdpRelay } from './UdpRelay';

interface Call {
  readonly id: number;
  readonly method: 'addPath' | 'learn' | 'configure' | 'stats' | 'close';
  readonly args: unknown[];
}

if (!process.send) throw new Error('relayProcess.ts must be started with an IPC channel (child_process.fork)');
const config = JSON.parse(process.argv[2] ?? '{}') as LinkConfig;
const spinMs = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const relay = new UdpRelay(config, { spinMs });

process.on('message', (call: Call) => {
  const method = relay[call.method] as (...args: unknown[]) => Promise<unknown>;
  method.apply(relay, call.args).then(
    (result) => {
      process.send!({ id: call.id, result });
      if (call.method === 'close') process.disconnect();
    },
    (error: Error) => process.send!({ id: call.id, error: error?.message ?? String(error) }),
  );
});
process.on('disconnect', () => {
  void relay.close().finally(() => process.exit(0));
});
process.send({ ready: true });
