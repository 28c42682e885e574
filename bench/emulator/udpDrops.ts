/**
 * Datagrams the kernel dropped on receive (socket buffer full), per local UDP
 * port, from /proc/net/udp. The emulator reports them so that loss it did not
 * mean to cause is visible. Linux only; elsewhere every port reads 0.
 */
import { readFileSync } from 'node:fs';

/** Sum of the kernel's receive drops over the IPv4 UDP sockets bound to `ports` on any address. */
export function udpDrops(ports: readonly number[]): number {
  let text: string;
  try {
    text = readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return 0;
  }
  const wanted = new Set(ports);
  let drops = 0;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = parseInt(f[1].split(':')[1], 16);
    if (wanted.has(port)) drops += Number(f[f.length - 1]) || 0;
  }
  return drops;
}
