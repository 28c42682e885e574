/**
 * Node.js only (`tallow-rx/node`): picks the congestion-control module of usrsctp, the SCTP stack under
 * node-datachannel, for every association the process creates afterwards. Browsers give JavaScript no such
 * control; in Node it is one native setting (`setSctpSettings({ congestionControlModule })`) and it is
 * **process-wide**: every peer connection of the process, tallow-rx's or not, created after the call uses it.
 * Call it once at start-up, before creating peer connections; ones created before keep what they had.
 */
import { InvalidConfigError, TallowError } from '../errors';

/** usrsctp's congestion-control modules (`SCTP_CC_*`), by name. */
export const SCTP_CONGESTION_CONTROL = {
  /** Standard NewReno-like (RFC 2581/4960): usrsctp's default. */
  rfc2581: 0,
  /** HighSpeed TCP (RFC 3649): grows the window faster and halves it less on a loss at large windows. */
  hstcp: 1,
  /** H-TCP. */
  htcp: 2,
  /** RTCC: RFC 2581 with RTT-based window growth. */
  rtcc: 3,
} as const;

/** A name of {@link SCTP_CONGESTION_CONTROL}. */
export type SctpCongestionControl = keyof typeof SCTP_CONGESTION_CONTROL;

/** The part of node-datachannel this needs. */
export interface SctpSettingsApi {
  setSctpSettings(settings: { congestionControlModule?: number }): void;
}

/** Options of {@link useSctpCongestionControl}. */
export interface UseSctpCongestionControlConfig {
  /** Where `setSctpSettings` comes from. Default: `import('node-datachannel')` (an optional peer dependency). */
  readonly load?: () => Promise<SctpSettingsApi>;
}

const loadNodeDataChannel = async (): Promise<SctpSettingsApi> => {
  try {
    const m = (await import('node-datachannel')) as unknown as SctpSettingsApi & { default?: SctpSettingsApi };
    return typeof m.setSctpSettings === 'function' ? m : m.default!;
  } catch (error) {
    throw new TallowError('ERR_PEER_DEPENDENCY', 'useSctpCongestionControl needs the optional peer dependency node-datachannel: npm install node-datachannel', { package: 'node-datachannel' }, { cause: error });
  }
};

/**
 * Sets usrsctp's congestion control for every SCTP association this process creates from now on
 * (process-wide: all peer connections, not one transfer's). docs/benchmarks.md measures `hstcp` with lanes.
 *
 * ## Example
 * ```ts
 * import { useSctpCongestionControl } from 'tallow-rx/node';
 * await useSctpCongestionControl('hstcp'); // before creating any RTCPeerConnection
 * ```
 *
 * @param algorithm `rfc2581` (usrsctp's default), `hstcp`, `htcp` or `rtcc`.
 * @param config Where node-datachannel comes from (tests pass their own).
 * @return Resolves once the setting is applied.
 * @throws InvalidConfigError for an unknown algorithm (before anything is loaded); `ERR_PEER_DEPENDENCY` without node-datachannel.
 */
export async function useSctpCongestionControl(algorithm: SctpCongestionControl, config: UseSctpCongestionControlConfig = {}): Promise<void> {
  if (!Object.prototype.hasOwnProperty.call(SCTP_CONGESTION_CONTROL, algorithm)) {
    throw new InvalidConfigError(`unknown SCTP congestion control '${String(algorithm)}'; known: ${Object.keys(SCTP_CONGESTION_CONTROL).join(', ')}`, { algorithm: String(algorithm) });
  }
  const api = await (config.load ?? loadNodeDataChannel)();
  api.setSctpSettings({ congestionControlModule: SCTP_CONGESTION_CONTROL[algorithm] });
}
