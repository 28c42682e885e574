/** Packets lost between the two pages of a browser bench run, from their peer connections' `transport` stats. */

/** A page's UDP packet counters (bench/lib/browser/benchPage.ts `udpPackets`); `undefined` without a second page. */
export type UdpCounters = { readonly sent: number; readonly received: number } | undefined;

/**
 * UDP packets the sending page sent during a run that the receiving page did not receive: "lost 12 of 30,021
 * packets". On loopback these are dropped inside Chromium (its sockets' buffers), and SCTP waits at least its
 * minimum RTO (400 ms in dcSCTP) to resend one: the stalls of 1-2 s some runs of every system show.
 * `undefined` for the Node receiver (no second page).
 */
export function lostPackets([sendBefore, recvBefore]: [UdpCounters, UdpCounters], [sendAfter, recvAfter]: [UdpCounters, UdpCounters]): string | undefined {
  if (!sendBefore || !sendAfter || !recvBefore || !recvAfter) return undefined;
  const sent = sendAfter.sent - sendBefore.sent;
  const lost = Math.max(0, sent - (recvAfter.received - recvBefore.received));
  return `lost ${lost.toLocaleString('en-US')} of ${sent.toLocaleString('en-US')} packets`;
}

