/**
 * Measures how long the sender's control messages wait behind its data: the session pings every second on
 * the control channel (`{"t":"ping","n","ts"}`, `ts` the sender's `Date.now()`), the receiver answers at once,
 * so each pong's age at the sender is the control channel's S → R delay (queued behind the data on the
 * first connection) plus the path's way back. The probe listens on the control channel the library opens on
 * `pc`; it changes nothing the library sends.
 */
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';

/** Pong round trips seen, each with when it arrived (`Date.now()`). */
export interface ControlPings {
  readonly samples: { readonly atMs: number; readonly rttMs: number }[];
}

/** Wraps `pc.createDataChannel` so the control channel's pongs are timed. */
export function watchControlPings(pc: { createDataChannel: (...args: any[]) => any }): ControlPings {
  const pings: ControlPings = { samples: [] };
  const create = pc.createDataChannel.bind(pc);
  pc.createDataChannel = (label: string, init?: unknown) => {
    const ch = create(label, init);
    if (label === CONTROL_LABEL) {
      ch.addEventListener('message', (e: { data: unknown }) => {
        if (typeof e.data !== 'string' || !e.data.includes('"pong"')) return;
        try {
          const msg = JSON.parse(e.data) as { t?: string; ts?: number };
          if (msg.t === 'pong' && typeof msg.ts === 'number') pings.samples.push({ atMs: Date.now(), rttMs: Date.now() - msg.ts });
        } catch {
          // not ours
        }
      });
    }
    return ch;
  };
  return pings;
}

/** `ctl ping p50 … max … ms (n)` over the pongs that arrived within `[fromMs, toMs]`, or '' without any. */
export function controlPingNote(pings: ControlPings, fromMs: number, toMs: number): string {
  const rtts = pings.samples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs).map((s) => s.rttMs).sort((a, b) => a - b);
  if (!rtts.length) return '';
  const at = (q: number) => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))];
  return `ctl ping p50 ${at(0.5)} max ${rtts[rtts.length - 1]} ms (${rtts.length})`;
}
