/**
 * NETWORK_BENCH_TRACE=1: a timeline of the given connection's channels, both ends, for a run whose control
 * pings went unanswered. Every 500 ms: each channel the sender made (label, readyState, bufferedAmount) and,
 * at the receiver, how many messages each channel delivered so far. Printed only for such a run.
 */
type Channel = { label: string; readyState: string; bufferedAmount: number; addEventListener(t: string, l: (e: { data: unknown }) => void): void };

export interface ChannelTrace {
  lines(): string[];
  stop(): void;
}

export function traceChannels(a: { createDataChannel: (...args: any[]) => any }, b: { addEventListener(t: string, l: (e: any) => void): void }): ChannelTrace {
  const made: Channel[] = [];
  const got = new Map<Channel, { label: string; n: number; text: string[] }>();
  const create = a.createDataChannel.bind(a);
  a.createDataChannel = (label: string, init?: unknown) => {
    const ch = create(label, init) as Channel;
    made.push(ch);
    return ch;
  };
  b.addEventListener('datachannel', (e: { channel: Channel }) => {
    const seen = { label: e.channel.label, n: 0, text: [] as string[] };
    got.set(e.channel, seen);
    e.channel.addEventListener('message', (m) => {
      seen.n++;
      if (typeof m.data === 'string' && seen.text.length < 40) seen.text.push(m.data.slice(0, 40));
    });
  });
  const t0 = Date.now();
  const out: string[] = [];
  const timer = setInterval(() => {
    const s = made.map((c) => `${c.label}:${c.readyState[0]}:${Math.round(c.bufferedAmount / 1024)}K`).join(' ');
    const r = [...got.values()].map((g) => `${g.label}:${g.n}`).join(' ');
    out.push(`+${Date.now() - t0}ms S[${s}] R[${r}]`);
  }, 500);
  return {
    lines: () => [...out, ...[...got.values()].filter((g) => g.text.length).map((g) => `R ${g.label} text: ${g.text.join(' | ')}`)],
    stop: () => clearInterval(timer),
  };
}
