/**
 * The selected ICE candidate pair, read from `getStats()`. Environment-neutral.
 *
 * Gotcha: node-datachannel's polyfill reports candidate addresses as `ip` (the
 * pre-2020 field); Chromium uses `address`. We accept both. The polyfill's report
 * is synthesised from libdatachannel's `getSelectedCandidatePair()`.
 */

/** One end of the selected pair. */
export interface CandidateEnd {
  readonly address: string;
  readonly port: number;
  readonly protocol?: string;
  readonly candidateType?: string;
}

/** Returns the local and remote ends of the selected candidate pair, or null if none is selected. */
export async function selectedCandidatePair(pc: RTCPeerConnection): Promise<{ local: CandidateEnd; remote: CandidateEnd } | null> {
  const report = await pc.getStats();
  const byId = new Map<string, any>();
  report.forEach((value: any, key: string) => byId.set(key, value));
  const transport = [...byId.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId);
  const pair = transport
    ? byId.get(transport.selectedCandidatePairId)
    : [...byId.values()].find((s) => s.type === 'candidate-pair' && (s.selected || s.nominated) && s.state === 'succeeded');
  if (!pair) return null;
  const end = (id: string): CandidateEnd => {
    const c = byId.get(id) ?? {};
    return { address: c.address ?? c.ip, port: c.port, protocol: c.protocol, candidateType: c.candidateType };
  };
  return { local: end(pair.localCandidateId), remote: end(pair.remoteCandidateId) };
}
