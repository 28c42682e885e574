/**
 * One endpoint (`a` or `b`) of a virtual link, shaped like an `RTCPeerConnection`
 * so code that opens its own channels can run against a virtual link.
 */
import type { PeerConnectionLike } from '../types';
import type { VirtualChannelInit, VirtualDataChannel } from './VirtualDataChannel';
import { VirtualEventTarget, type VirtualEvent } from './VirtualEventTarget';

/** The endpoint names of a link. */
export type VirtualSide = 'a' | 'b';

/** What `createDataChannel` accepts: `negotiated` and `id` are accepted and ignored. */
export type VirtualDataChannelInit = VirtualChannelInit & { readonly negotiated?: boolean; readonly id?: number };

/** What a peer asks of its link. Internal plumbing, not for users. */
export interface VirtualPeerWire {
  readonly maxMessageSize: number;
  /** Creates a channel pair starting at this endpoint; returns `[this end, far end]`. */
  createChannel(label: string, init: VirtualChannelInit): [VirtualDataChannel, VirtualDataChannel];
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
 * before the channels fire `open`. `close()` closes the whole link.
 *
 * ```
 * a.createDataChannel('x')  x----------------
 * b 'datachannel'           --openDelay--d---
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
   * Opens a channel pair from this endpoint and returns this end.
   *
   * @param label The channel label.
   * @param init `ordered`, `maxRetransmits`, `protocol`; `negotiated` and `id` are ignored.
   * @return This endpoint's channel, in state `'connecting'`.
   * @throws DOMException `InvalidStateError` once the link is closed.
   */
  createDataChannel(label: string, init: VirtualDataChannelInit = {}): VirtualDataChannel {
    return this.#wire.createChannel(label, init)[0];
  }

  /** Closes the whole link (both endpoints and all channels). */
  close(): void {
    this.#wire.close();
  }
}
