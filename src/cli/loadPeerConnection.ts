/**
 * node-datachannel for the command line: an optional peer dependency of
 * tallow-rx, loaded on first use so the library itself never needs it.
 */

/** What the command line needs to make peer connections. */
export interface PeerConnectionOptions {
  /** ICE servers from the rendezvous (TURN credentials), if any. */
  readonly iceServers: ReadonlyArray<{ urls: string | readonly string[]; username?: string; credential?: string }>;
  /**
   * Only relay candidates (`--relay`). libdatachannel applies this to the candidates it signals, but
   * libjuice has no transport policy and also checks from its host socket: the path is relayed only
   * where the TURN server's per-IP permissions drop direct packets, i.e. while this peer's address
   * is not the TURN relay address (docs/deploy.md, "With coturn").
   */
  readonly relayOnly?: boolean;
  /** Local address libjuice gathers candidates on (`--bind-address`), e.g. 127.0.0.1. Default: every interface. */
  readonly bindAddress?: string;
}

/** Raised when node-datachannel is missing: the message says how to install it. */
export class MissingPeerDependencyError extends Error {
  override readonly name = 'MissingPeerDependencyError';
}

/** Loads node-datachannel's W3C polyfill; returns a factory of `RTCPeerConnection`s. */
export async function loadPeerConnection(): Promise<(options: PeerConnectionOptions) => RTCPeerConnection> {
  let polyfill: typeof import('node-datachannel/polyfill');
  try {
    polyfill = await import('node-datachannel/polyfill');
  } catch (error) {
    throw new MissingPeerDependencyError(
      'send and receive need node-datachannel (WebRTC for Node), an optional peer dependency:\n' +
        '  npm install node-datachannel          (next to tallow-rx), or\n' +
        '  npx -p tallow-rx -p rxjs -p node-datachannel tallow-rx …',
      { cause: error },
    );
  }
  return (options) => {
    // The polyfill spreads its configuration into libdatachannel's, so bindAddress passes through. It also
    // folds username and credential into the URL (`turn:user:pass@host`), where libdatachannel splits at the
    // first ':' and URL-decodes: a REST-API username (`<expiry>:<id>`) and a base64 credential must be
    // percent-encoded, or coturn sees the user `<expiry>` ("Cannot find credentials of user").
    const encode = (text: string | undefined): string | undefined => (text === undefined ? undefined : encodeURIComponent(text));
    const iceServers = options.iceServers.map((s) => ({ urls: typeof s.urls === 'string' ? s.urls : [...s.urls], username: encode(s.username), credential: encode(s.credential) }));
    const config: Record<string, unknown> = { iceServers };
    if (options.relayOnly) config.iceTransportPolicy = 'relay';
    if (options.bindAddress) config.bindAddress = options.bindAddress;
    return new polyfill.RTCPeerConnection(config as RTCConfiguration) as unknown as RTCPeerConnection;
  };
}
