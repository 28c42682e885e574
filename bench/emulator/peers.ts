/**
 * Connected node-datachannel peer-connection pairs ("lanes") for the network
 * benchmark: straight over loopback, or through a link emulator (all lanes
 * share its bottleneck).
 */
import { createNodePeerConnection, createNodePeerPair, type Lane } from '../../harness/nodePeers';
import { connectThroughEmulator } from './emulatedSignalling';
import type { LinkEmulatorApi } from './UdpRelay';

export type { Lane } from '../../harness/nodePeers';

/** Lanes and a close function. */
export interface Peers {
  readonly lanes: Lane[];
  close(): Promise<void>;
}

/** Options of {@link connectPeers}. */
export interface ConnectPeersConfig {
  /** Peer-connection pairs. Default 1. */
  readonly lanes?: number;
  /** libdatachannel's maxMessageSize on both peers. Default: the library default (262144). */
  readonly maxMessageSize?: number;
  /** Connect attempts per lane (ICE over a lossy emulated link can miss). Default 3. */
  readonly attempts?: number;
}

/** Creates `lanes` connected pairs, through `emulator` when given. */
export async function connectPeers(emulator: LinkEmulatorApi | undefined, config: ConnectPeersConfig = {}): Promise<Peers> {
  const { lanes: count = 1, maxMessageSize, attempts = 3 } = config;
  const options = maxMessageSize === undefined ? {} : { maxMessageSize };
  if (!emulator) {
    const pair = await createNodePeerPair({ lanes: count, ...options });
    return { lanes: pair.lanes, close: async () => void (await pair.close()) };
  }
  const lanes: Lane[] = [];
  const close = async (): Promise<void> => {
    for (const { a, b } of lanes) {
      a.close();
      b.close();
    }
    // The polyfill dispatches close events from setImmediate; let them run before the next transfer.
    await new Promise((r) => setTimeout(r, 20));
  };
  try {
    for (let i = 0; i < count; i++) {
      for (let attempt = 1; ; attempt++) {
        const lane = { a: createNodePeerConnection(options), b: createNodePeerConnection(options) };
        try {
          await connectThroughEmulator(lane.a, lane.b, emulator, { timeoutMs: 20_000 });
          lanes.push(lane);
          break;
        } catch (error) {
          lane.a.close();
          lane.b.close();
          if (attempt >= attempts) throw error;
        }
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { lanes, close };
}
