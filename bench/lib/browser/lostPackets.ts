/** Packets lost between the two pages of a browser bench run, from their peer connections' `transport` stats. */

/** A page's UDP packet counters (bench/lib/browser/benchPage.ts `udpPackets`); `undefined` without a second page. */
export type UdpCounters = { readonly sent: number; readonly received: number; readonly closed?: number } | undefined;

/**
 * UDP packets the sending page sent during a run that the receiving page did not receive: "lost 12 of 30,021
 * packets". On loopback these are dropped inside Chromium (its sockets' buffers), and SCTP waits at least its
 * minimum RTO (400 ms in dcSCTP) to resend one: the stalls of 1-2 s some runs of every system show.
 * `undefined` for the Node receiver (no second page).
 */
export function lostPackets([sendBefore, recvBefore]: [UdpCounters, UdpCounters], [sendAfter, recvAfter]: [UdpCounters, UdpCounters]): string | undefined {
  if (!sendBefore || !sendAfter || !recvBefore || !recvAfter) return undefined;
  // A connection closed during the run (in-band lanes at the end of a transfer, PeerJS's at the end of a receive)
  // took its counters with it: no figure rather than a wrong one.
  if ((sendAfter.closed ?? 0) !== (sendBefore.closed ?? 0) || (recvAfter.closed ?? 0) !== (recvBefore.closed ?? 0)) return 'packets lost: not known (a connection closed during the run)';
  const sent = sendAfter.sent - sendBefore.sent;
  const lost = Math.max(0, sent - (recvAfter.received - recvBefore.received));
  return `lost ${lost.toLocaleString('en-US')} of ${sent.toLocaleString('en-US')} packets`;
}

