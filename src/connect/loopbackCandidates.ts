/**
 * ICE candidate lines as the loopback helpers see them: strip node-datachannel's `a=` prefix, keep
 * only UDP on 127.0.0.1. Environment-neutral (no `node:` imports).
 */

/**
 * Removes the `a=` prefix that node-datachannel puts on candidate lines.
 *
 * @param candidate An ICE candidate line, with or without `a=`.
 * @return The line without the prefix, trimmed.
 */
export const normaliseCandidate = (candidate: string): string => candidate.replace(/^a=/, '').trim();

/**
 * True for an ICE candidate line that is UDP on 127.0.0.1.
 *
 * `candidate:<foundation> <component> <protocol> <priority> <address> <port> typ <type> …`
 *
 * Browsers outside a loopback-only network also offer 192.0.2.x, `::1`, `fd00::` and mDNS
 * `*.local` candidates; filtering both directions through this keeps every path on 127.0.0.1.
 *
 * @param candidate An ICE candidate line, with or without `a=`.
 * @return Whether the candidate is UDP on 127.0.0.1.
 */
export function isLoopbackUdpCandidate(candidate: string): boolean {
  const fields = normaliseCandidate(candidate).split(/\s+/);
  if (fields.length < 8 || !fields[0].startsWith('candidate:')) return false;
  return fields[2].toLowerCase() === 'udp' && fields[4] === '127.0.0.1';
}
