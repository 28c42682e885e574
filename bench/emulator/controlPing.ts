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
  readonly samples: { readonly atMs: number; readonly rttMs: number; readonly sentAtMs: number }[];
  /** When each ping left (its `ts`), so pings still unanswered at the end are counted too. */
  readonly sentAtMs: number[];
}

/** Wraps `pc.createDataChannel` so the control channel's pongs are timed. */
export function watchControlPings(pc: { createDataChannel: (...args: any[]) => any }): ControlPings {
  const pings: ControlPings = { samples: [], sentAtMs: [] };
  const create = pc.createDataChannel.bind(pc);
  pc.createDataChannel = (label: string, init?: unknown) => {
    const ch = create(label, init);
    if (label === CONTROL_LABEL) {
      const send = ch.send.bind(ch);
      ch.send = (data: unknown) => {
        if (typeof data === 'string' && data.includes('"ping"')) {
          const ts = (JSON.parse(data) as { ts?: number }).ts;
          if (typeof ts === 'number') pings.sentAtMs.push(ts);
        }
        return send(data);
      };
      ch.addEventListener('message', (e: { data: unknown }) => {
        if (typeof e.data !== 'string' || !e.data.includes('"pong"')) return;
        try {
          const msg = JSON.parse(e.data) as { t?: string; ts?: number };
          if (msg.t !== 'pong' || typeof msg.ts !== 'number') return;
          const now = Date.now();
          pings.samples.push({ atMs: now, rttMs: now - msg.ts, sentAtMs: msg.ts });
        } catch {
          // not ours
        }
      });
    }
    return ch;
  };
  return pings;
}

/**
 * `ctl ping p50 … max … ms (n)` over the pongs that arrived within `[fromMs, toMs]`, plus the pings sent in
 * that time and still unanswered at `toMs` (`k unanswered, oldest … ms`); '' when no ping was sent.
 */
export function controlPingNote(pings: ControlPings, fromMs: number, toMs: number): string {
  const rtts = pings.samples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs).map((s) => s.rttMs).sort((a, b) => a - b);
  const open = unansweredPings(pings, fromMs, toMs);
  const parts: string[] = [];
  const at = (q: number) => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))];
  if (rtts.length) parts.push(`ctl ping p50 ${at(0.5)} max ${rtts[rtts.length - 1]} ms (${rtts.length})`);
  if (open.length) parts.push(`${open.length} ping${open.length > 1 ? 's' : ''} unanswered at the end, oldest ${toMs - Math.min(...open)} ms`);
  return parts.join(', ');
}

/** When each ping sent within `[fromMs, toMs]` and still unanswered at `toMs` left (`Date.now()`). */
export function unansweredPings(pings: ControlPings, fromMs: number, toMs: number): number[] {
  const answered = new Set(pings.samples.filter((s) => s.atMs <= toMs).map((s) => s.sentAtMs));
  return pings.sentAtMs.filter((t) => t >= fromMs && t <= toMs && !answered.has(t));
}
