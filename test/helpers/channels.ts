/** Watching the data channels of real peer connections (node-datachannel, @roamhq/wrtc) close. */

/** The part of a peer connection {@link trackChannels} uses. */
interface PeerConnectionLike {
  createDataChannel(label: string, init?: unknown): EventTarget;
  addEventListener(type: 'datachannel', listener: (event: { channel: EventTarget }) => void): void;
}

/**
 * Tracks every channel `pcs` create or receive from now on until it fires `close`. Only the open
 * ones are held, so nothing closed is kept alive (a heap check stays meaningful).
 *
 * @return `allClosed()`: resolves once every tracked channel has fired `close`.
 */
export const trackChannels = (pcs: readonly unknown[]): { allClosed(): Promise<void> } => {
  const open = new Set<EventTarget>();
  let onNoneOpen: (() => void) | undefined;
  const track = (ch: EventTarget) => {
    open.add(ch);
    ch.addEventListener('close', () => {
      open.delete(ch);
      if (open.size === 0) onNoneOpen?.();
    });
  };
  for (const pc of pcs as PeerConnectionLike[]) {
    const create = pc.createDataChannel.bind(pc);
    pc.createDataChannel = (label, init) => {
      const ch = create(label, init);
      track(ch);
      return ch;
    };
    pc.addEventListener('datachannel', (event) => track(event.channel));
  }
  return { allClosed: () => (open.size === 0 ? Promise.resolve() : new Promise((resolve) => (onNoneOpen = resolve))) };
};
