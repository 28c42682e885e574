/**
 * The link emulator's data path: a UDP relay on 127.0.0.1 between two real
 * WebRTC peers. Each path (one per peer-connection pair, see
 * emulatedSignalling.ts) is a pair of sockets:
 *
 * ```
 * peer A (pa) ──► socket facingA (told to A as B's candidate) ──► aToB model ──► socket facingB ──► peer B (pb)
 * peer A (pa) ◄── socket facingA ◄── bToA model ◄── socket facingB (told to B as A's candidate) ◄── peer B (pb)
 * ```
 *
 * Every path shares the link's two direction models, so several lanes compete
 * for one bottleneck as they would on a real network. Datagrams wait in one
 * {@link ReleaseQueue} until their release time.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { LinkConfig } from './linkConfig';
import { LinkDirection, type DirectionCounters } from './LinkDirection';
import { ReleaseQueue, type LatenessStats } from './ReleaseQueue';
import { udpDrops } from './udpDrops';

/** Kernel receive buffer asked for on every emulator socket (capped by net.core.rmem_max). */
export const RELAY_SOCKET_BUFFER = 4 * 1024 * 1024;

/** The ports of one path. */
export interface EmulatorPath {
  readonly id: number;
  /** Give this port to peer A as B's candidate port. */
  readonly portFacingA: number;
  /** Give this port to peer B as A's candidate port. */
  readonly portFacingB: number;
}

/** Everything the emulator counted. */
export interface LinkStats {
  readonly aToB: DirectionCounters;
  readonly bToA: DirectionCounters;
  /** How late the scheduling loop released datagrams. */
  readonly lateness: LatenessStats;
  /** Datagrams the kernel dropped on the emulator's sockets (receive buffer overflow): unintended loss. */
  readonly kernelDropsEmulator: number;
  /** The same on the peers' sockets (learned ports). */
  readonly kernelDropsPeers: number;
  /** Datagrams that arrived before the far peer's port was known (ICE checks retry). */
  readonly unroutable: number;
}

/** The emulator's control surface, in-process ({@link UdpRelay}) or in a child process (LinkEmulator.ts). */
export interface LinkEmulatorApi {
  addPath(): Promise<EmulatorPath>;
  /** Tells the relay the real port of peer `side` on path `pathId` (from its ICE candidate). */
  learn(pathId: number, side: 'a' | 'b', port: number): Promise<void>;
  /** Replaces both directions' settings (queued datagrams keep their release times). */
  configure(config: LinkConfig): Promise<void>;
  stats(): Promise<LinkStats>;
  close(): Promise<void>;
}

interface PathState {
  readonly id: number;
  readonly facingA: Socket;
  readonly facingB: Socket;
  /** Real ports of the peers, once known. */
  portA?: number;
  portB?: number;
}

interface Held {
  readonly socket: Socket;
  readonly port: number;
  readonly data: Buffer;
  readonly counters: DirectionCounters;
}

const bind = (socket: Socket): Promise<number> =>
  new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });

/** An in-process link emulator. Prefer `startLinkEmulator` (LinkEmulator.ts), which can run it in its own process. */
export class UdpRelay implements LinkEmulatorApi {
  private readonly aToB: LinkDirection;
  private readonly bToA: LinkDirection;
  private readonly paths: PathState[] = [];
  private readonly queue: ReleaseQueue<Held>;
  private unroutable = 0;
  private closed = false;

  constructor(config: LinkConfig = {}, options: { spinMs?: number } = {}) {
    const seed = config.seed ?? 1;
    this.aToB = new LinkDirection(config.aToB, seed);
    this.bToA = new LinkDirection(config.bToA, seed ^ 0x5bd1e995);
    this.queue = new ReleaseQueue<Held>(
      (h) => {
        h.counters.datagramsOut++;
        h.counters.bytesOut += h.data.length;
        h.socket.send(h.data, h.port, '127.0.0.1');
      },
      { spinMs: options.spinMs },
    );
  }

  async addPath(): Promise<EmulatorPath> {
    if (this.closed) throw new Error('UdpRelay: closed');
    const make = () => createSocket({ type: 'udp4', recvBufferSize: RELAY_SOCKET_BUFFER, sendBufferSize: RELAY_SOCKET_BUFFER });
    const facingA = make();
    const facingB = make();
    const [portFacingA, portFacingB] = await Promise.all([bind(facingA), bind(facingB)]);
    const path: PathState = { id: this.paths.length, facingA, facingB };
    this.paths.push(path);
    facingA.on('message', (data, from) => {
      if (path.portA === undefined) path.portA = from.port;
      this.forward(this.aToB, data, facingB, path.portB);
    });
    facingB.on('message', (data, from) => {
      if (path.portB === undefined) path.portB = from.port;
      this.forward(this.bToA, data, facingA, path.portA);
    });
    // A peer that went away makes the kernel report ICMP errors as socket errors; they are not ours to handle.
    facingA.on('error', () => undefined);
    facingB.on('error', () => undefined);
    return { id: path.id, portFacingA, portFacingB };
  }

  async learn(pathId: number, side: 'a' | 'b', port: number): Promise<void> {
    const path = this.paths[pathId];
    if (!path) throw new RangeError(`UdpRelay: no path ${pathId}`);
    if (side === 'a') path.portA = port;
    else path.portB = port;
  }

  async configure(config: LinkConfig): Promise<void> {
    this.aToB.configure(config.aToB ?? {});
    this.bToA.configure(config.bToA ?? {});
  }

  async stats(): Promise<LinkStats> {
    const own = this.paths.flatMap((p) => [p.facingA, p.facingB]).map((s) => s.address().port);
    const peers = this.paths.flatMap((p) => [p.portA, p.portB]).filter((p): p is number => p !== undefined);
    return {
      aToB: { ...this.aToB.counters },
      bToA: { ...this.bToA.counters },
      lateness: this.queue.lateness(),
      kernelDropsEmulator: udpDrops(own),
      kernelDropsPeers: udpDrops(peers),
      unroutable: this.unroutable,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    await Promise.all(this.paths.flatMap((p) => [p.facingA, p.facingB]).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private forward(direction: LinkDirection, data: Buffer, out: Socket, port: number | undefined): void {
    if (port === undefined) {
      this.unroutable++;
      return;
    }
    const verdict = direction.admit(data.length, performance.now());
    if ('drop' in verdict) return;
    this.queue.push(verdict.release, { socket: out, port, data, counters: direction.counters });
  }
}
