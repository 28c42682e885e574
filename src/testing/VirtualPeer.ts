/**
 * One endpoint (`a` or `b`) of a virtual link, shaped like an `RTCPeerConnection`
 * so code that opens its own channels can run against a virtual link.
 */
import type { PeerConnectionLike } from '../types';
import type { VirtualChannelInit, VirtualDataChannel } from './VirtualDataChannel';
import { VirtualEventTarget, type VirtualEvent } from './VirtualEventTarget';

/** The endpoint names of a link. */
export type VirtualSide = 'a' | 'b';

/**
 * What `createDataChannel` accepts: the modelled channel options, plus
 * `negotiated` (default `false`) and `id` (required when negotiated, an integer
 * in [0, 65534]; ignored otherwise, as in browsers).
 */
export type VirtualDataChannelInit = VirtualChannelInit & { readonly negotiated?: boolean; readonly id?: number | null };

/** What a peer asks of its link. Internal plumbing, not for users. */
export interface VirtualPeerWire {
  readonly maxMessageSize: number;
  /** The link's round trip without queueing, ms (twice the one-way delay). */
  roundTripMs(): number;
  /** Payload bytes delivered from and to this endpoint so far. */
  traffic(): { sent: number; received: number };
  /** Creates a channel at this endpoint (in-band: the whole pair; negotiated: this end) and returns this end. */
  createDataChannel(label: string, init?: VirtualDataChannelInit): VirtualDataChannel;
  isClosed(): boolean;
  close(): void;
}

/** What the link may do to a peer. Internal plumbing, not for users. */
export interface VirtualPeerControl {
  /** Records a channel that lives at this endpoint. */
  adopt(channel: VirtualDataChannel): void;
  dispatch(event: VirtualEvent): void;
}

type Handler = ((event: any) => void) | null;

/**
 * An endpoint of a virtual link, with the parts of `RTCPeerConnection` that
 * tallow-rx uses. `createDataChannel(label)` returns this end at once; the far
 * endpoint fires `datachannel` (with `event.channel`) when the pair opens, just
 * before the channels fire `open`. With `{ negotiated: true, id }` there is no
 * `datachannel`: each endpoint creates its own end, and the ends with the same
 * id are paired (see {@link VirtualPeer.createDataChannel}). `close()` closes
 * the whole link.
 *
 * ```
 * a.createDataChannel('x')                  x------------------
 * b 'datachannel'                           --openDelayMs--d---
 *
 * a.createDataChannel('n', {negotiated, id}) n--openDelayMs--o--m1----m2--
 * b.createDataChannel('n', {negotiated, id}) ----------n--openDelayMs--o--
 * b 'message'                                m1 dropped (no id 7 at b yet); m2 delivered
 * ```
 *
 * ## Example
 * ```ts
 * import { createVirtualLink } from 'tallow-rx/testing';
 * const { a, b } = createVirtualLink();
 * b.ondatachannel = ({ channel }) => (channel.onmessage = (e) => console.log(e.data));
 * const dc = a.createDataChannel('chat');
 * dc.onopen = () => dc.send('hello');
 * ```
 */
export class VirtualPeer extends VirtualEventTarget implements PeerConnectionLike {
  /** `'a'` or `'b'`. */
  readonly name: VirtualSide;
  /** The negotiated SCTP limits: `maxMessageSize` comes from the link config. */
  readonly sctp: { readonly maxMessageSize: number };
  ondatachannel: Handler = null;
  onconnectionstatechange: Handler = null;

  /** Every channel that lives at this endpoint, in creation order. */
  readonly #channels: VirtualDataChannel[] = [];
  /** The link side. */
  readonly #wire: VirtualPeerWire;

  /** Use `createVirtualLink()`; this constructor is plumbing. */
  constructor(name: VirtualSide, connect: (control: VirtualPeerControl) => VirtualPeerWire) {
    super();
    this.name = name;
    this.#wire = connect({
      adopt: (channel) => void this.#channels.push(channel),
      dispatch: (event) => this.dispatch(event),
    });
    this.sctp = { maxMessageSize: this.#wire.maxMessageSize };
  }

  /** `'connected'` until the link closes, then `'closed'`. */
  get connectionState(): 'connected' | 'closed' {
    return this.#wire.isClosed() ? 'closed' : 'connected';
  }

  /** Every channel at this endpoint (including closed ones), in creation order. */
  get channels(): readonly VirtualDataChannel[] {
    return [...this.#channels];
  }

  /**
   * Creates a data channel at this endpoint and returns it, in state `'connecting'`.
   *
   * - In-band (default): opens a pair whose far end the other endpoint announces
   *   with `datachannel`; the link picks an id no channel at either endpoint uses.
   * - `{ negotiated: true, id }`: like Chromium once SCTP is up. No `datachannel`
   *   fires anywhere. The channel opens after `openDelayMs` whether or not the
   *   other endpoint has created `id`, and is paired with the channel the other
   *   endpoint creates with the same `id`, before or after. A message that
   *   arrives at the other endpoint while it has no channel with that id is
   *   dropped and counted as `messagesUndeliverable`; one that arrives while
   *   that channel is still `'connecting'` is delivered right after its `open`.
   *   Each direction uses its sender's `ordered` and `maxRetransmits`.
   *
   * @param label The channel label (the two ends of a negotiated pair may differ).
   * @param init `ordered`, `maxRetransmits`, `protocol`, `negotiated`, `id`.
   * @return This endpoint's channel, in state `'connecting'`.
   * @throws DOMException `InvalidStateError` once the link is closed; InvalidConfigError
   * for a bad option, or a negotiated channel without an integer `id` in [0, 65534];
   * DOMException `OperationError` when a channel at this endpoint that is not yet
   * `'closed'` already has that `id`.
   */
  createDataChannel(label: string, init: VirtualDataChannelInit = {}): VirtualDataChannel {
    return this.#wire.createDataChannel(label, init);
  }

  /**
   * A stats report with one selected candidate pair, as a browser gives: `currentRoundTripTime` is the
   * link's round trip without queueing (2 × `delayMs`, in seconds), `bytesSent`/`bytesReceived` the payload
   * delivered so far. The returned thenable answers synchronously, so the stats of a transfer inside
   * `TestScheduler.run()` see it (a real Promise would never settle during the flush); `await` works as usual.
   */
  getStats(): PromiseLike<Map<string, Record<string, unknown>>> {
    const { sent, received } = this.#wire.traffic();
    const pair = { id: 'virtual-pair', type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: this.#wire.roundTripMs() / 1000, bytesSent: sent, bytesReceived: received };
    const report = new Map<string, Record<string, unknown>>([[pair.id, pair]]);
    return {
      then: (onFulfilled, onRejected) => {
        try {
          return syncThenable(onFulfilled ? onFulfilled(report) : report) as any;
        } catch (err) {
          if (onRejected) return syncThenable(onRejected(err)) as any;
          throw err;
        }
      },
    };
  }

  /** Closes the whole link (both endpoints and all channels). */
  close(): void {
    this.#wire.close();
  }
}

/** A settled value as a thenable that calls back at once. */
const syncThenable = <T,>(value: T): PromiseLike<T> => ({
  then: (onFulfilled) => syncThenable(onFulfilled ? (onFulfilled(value) as any) : value) as any,
});
