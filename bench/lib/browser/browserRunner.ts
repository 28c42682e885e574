/**
 * Chromium runner module of the browser benchmark (bench/browser.ts). It runs inside the
 * loopback-only namespace (test/harness/chromium.ts): the harness page sends, a second page of
 * the same browser receives, and both run bench/lib/browser/benchPage.ts as `window.bundles.bench`.
 * It also starts a PeerServer (the `peer` package) on 127.0.0.1 for the PeerJS row, and answers
 * the Chromium → node-datachannel row's connections itself.
 *
 *   bench → { id, system, bytes, timeoutMs, profile? }     one timed run on fresh connections
 *   runner → { id, ok: true, value: RunRecord } | { id, ok: false, error }
 *
 * Per run it measures, around the timed transfer only (connecting is not timed):
 * - long tasks on each page (the page's PerformanceObserver);
 * - each page's main-thread busy time (CDP `Performance.getMetrics`, `TaskDuration`);
 * - CPU time of every Chromium process, by type, from /proc (processCpu.ts), and of this process;
 * - with `profile`, a CDP CPU profile of each page, summarised to the top self-time functions.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { CDPSession, Page } from 'playwright-core';
import { PeerServer } from 'peer';
import { lastValueFrom, tap } from 'rxjs';
import { receiveFile } from '../../../src/transfer/receiveFile';
import type { TransferEvent } from '../../../src/transfer/TransferEvent';
import { openHarnessPage, type ChromiumRunnerContext } from '../../../test/harness/chromium';
import { createNodePeerConnection } from '../../../harness/nodePeers';
import { negotiate, type SignalTransport } from '../../../harness/signalling';
import { discardTarget } from '../discardTarget';
import type * as PageEntry from './benchPage';
import type { BrowserSystem } from './browserSystems';
import { lostPackets } from './lostPackets';
import { summarizeCpuProfile, type CpuProfile } from './cpuProfile';
import { cpuBetween, readProcessTree, readThreads, threadsBetween } from './processCpu';
import type { LongTaskSummary } from './longTasks';

/** What the bench asks for. */
export interface RunRequest {
  readonly id: number;
  readonly system: BrowserSystem;
  readonly bytes: number;
  readonly timeoutMs: number;
  /** Record a CPU profile of both pages during the run. Default false. */
  readonly profile?: boolean;
}

/** One timed run. */
export interface RunRecord {
  readonly system: string;
  readonly bytes: number;
  /** From the sender's first send (tallow-rx: subscribing) to the last byte received (tallow-rx: both completed). */
  readonly seconds: number;
  readonly longTasks: { readonly sender: LongTaskSummary; readonly receiver: LongTaskSummary };
  /** Main-thread task time of each page during the run (CDP `TaskDuration`), s; `receiver` is absent for the Node receiver. */
  readonly mainThreadSeconds: { readonly sender: number; readonly receiver?: number };
  /** CPU of Chromium's processes during the run, s, by process type (`renderer`, `network`, `browser`, `gpu`, …). */
  readonly chromiumCpu: Readonly<Record<string, number>>;
  /** CPU of this runner process during the run (the node-datachannel receiver, the PeerServer), s. */
  readonly runnerCpuSeconds: number;
  readonly detail?: string;
  /** With `profile`: top self-time functions per page. */
  readonly profile?: { readonly sender: string[]; readonly receiver?: string[] };
}

/** The runner's answer. */
export type RunReply = { id: number; ok: true; value: RunRecord } | { id: number; ok: false; error: string };

type Entry = typeof PageEntry;

/** The page bundle a call goes to: this tree's (`bench`), or an older checkout's (`baseline`, bench/browser.ts `--baseline`). */
type Bundle = 'bench' | 'baseline';

/** Calls `window.bundles[bundle][fn](...args)` in `page`. */
const callIn = <K extends keyof Entry>(
  bundle: Bundle,
  page: Page,
  fn: K,
  ...args: Entry[K] extends (...a: infer A) => unknown ? A : never
): Promise<Entry[K] extends (...a: never[]) => infer R ? Awaited<R> : never> => page.evaluate(([b, f, a]) => (window as any).bundles[b][f](...a), [bundle, fn, args] as const) as any;

/** Relays every message of `a` to `b` and back, as a signalling server would. */
const bridge = (a: SignalTransport, b: SignalTransport): void => {
  a.onMessage((m) => b.send(m));
  b.onMessage((m) => a.send(m));
};

/** Untimed pause after connecting, so the connections settle before the clock starts, ms. */
const SETTLE_MS = 200;
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Signalling sessions. */
let signalSeq = 0;

/** Main-thread task time of a page so far, s. */
async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
  return metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
}

/** Everything set up once: the receiving page, CDP sessions, the PeerServer. */
async function prepare(context: ChromiumRunnerContext): Promise<(r: RunRequest) => Promise<RunRecord>> {
  const { page: sender, server } = context;
  const receiver = await context.context.newPage();
  receiver.on('console', (m) => console.error(`[receiver page ${m.type()}] ${m.text()}`));
  receiver.on('pageerror', (e) => console.error(`[receiver page error] ${e.message}`));
  await openHarnessPage(receiver, server);
  // The bundle of the run in progress: every call of a run goes to the same library.
  let bundle: Bundle = 'bench';
  const call = <K extends keyof Entry>(page: Page, fn: K, ...args: Entry[K] extends (...a: infer A) => unknown ? A : never) => callIn(bundle, page, fn, ...args);
  const bundles = (await sender.evaluate(() => Object.keys((window as any).bundles))) as string[];
  for (const b of ['bench', 'baseline'] as const) if (bundles.includes(b)) await Promise.all([callIn(b, sender, 'init'), callIn(b, receiver, 'init')]);
  const cdp = { sender: await context.context.newCDPSession(sender), receiver: await context.context.newCDPSession(receiver) };
  await Promise.all([cdp.sender.send('Performance.enable'), cdp.receiver.send('Performance.enable')]);

  // PeerJS's signalling server, on 127.0.0.1 only; it lives as long as this process.
  const peerServer = await new Promise<Server>((resolve) => {
    PeerServer({ host: '127.0.0.1', port: 0, path: '/' }, (s) => resolve(s as Server));
  });
  const peerServerPort = (peerServer.address() as AddressInfo).port;

  /** One peer connection between the pages: the sender offers, the receiver answers. */
  const connectPages = async (channelsInWorker?: true | 'receiver'): Promise<[string, string]> => {
    const session = `bench-${process.pid}-${++signalSeq}`;
    const a = call(sender, 'connectPeer', `${server.signalUrl}?session=${session}-a`, 'offerer', channelsInWorker === true);
    const b = call(receiver, 'connectPeer', `${server.signalUrl}?session=${session}-b`, 'answerer', channelsInWorker !== undefined);
    a.catch(() => undefined);
    b.catch(() => undefined);
    const [ta, tb] = await Promise.all([server.signalling(`${session}-a`), server.signalling(`${session}-b`)]);
    bridge(ta, tb);
    return Promise.all([a, b]);
  };

  /** Sets up the receiving end and the connections, and returns the timed part of the run. */
  const arrange = async (system: BrowserSystem, bytes: number, timeoutMs: number): Promise<{ go: () => Promise<{ seconds: number; detail?: string }>; cleanup: () => void }> => {
    const noCleanup = () => undefined;
    switch (system.kind) {
      case 'raw': {
        const [a, b] = await connectPages();
        if (system.inWorker) await call(receiver, 'rawWorkerReceive', b, bytes, timeoutMs);
        else await call(receiver, 'rawReceive', b, bytes, timeoutMs, system.unordered ?? false, system.channels ?? 1);
        return {
          go: async () => {
            const sent = await call(sender, system.inWorker ? 'rawWorkerSend' : 'rawSend', a, bytes, system);
            const got = await call(receiver, 'received');
            return { seconds: (got.finishedAt - sent.startedAt) / 1000 };
          },
          cleanup: noCleanup,
        };
      }
      case 'tallow': {
        if (system.receiver === 'node') return arrangeNode(system, bytes, timeoutMs);
        const lanes: Array<[string, string]> = [];
        for (let i = 0; i < system.connections; i++) lanes.push(await connectPages(system.channelsInWorker));
        return {
          go: async () => {
            await call(receiver, 'tallowReceive', lanes.map(([, b]) => b), timeoutMs);
            const sent = await call(sender, 'tallowSend', lanes.map(([a]) => a), bytes, system.options, timeoutMs);
            const got = await call(receiver, 'received');
            if (!sent.sha256 || sent.sha256 !== got.sha256) throw new Error(`tallow-rx: SHA-256 differ (${sent.sha256} / ${got.sha256})`);
            if (got.bytes !== bytes) throw new Error(`tallow-rx: receiver got ${got.bytes} of ${bytes} B`);
            return { seconds: (Math.max(sent.finishedAt, got.finishedAt) - sent.startedAt) / 1000, detail: sent.detail };
          },
          cleanup: noCleanup,
        };
      }
      case 'simple-peer': {
        const session = `bench-sp-${process.pid}-${++signalSeq}`;
        const a = call(sender, 'simplePeerConnect', `${server.signalUrl}?session=${session}-a`, true, timeoutMs);
        const b = call(receiver, 'simplePeerConnect', `${server.signalUrl}?session=${session}-b`, false, timeoutMs);
        a.catch(() => undefined);
        b.catch(() => undefined);
        const [ta, tb] = await Promise.all([server.signalling(`${session}-a`), server.signalling(`${session}-b`)]);
        bridge(ta, tb);
        const [ka, kb] = await Promise.all([a, b]);
        await call(receiver, 'simplePeerReceive', kb, bytes, timeoutMs);
        return {
          go: async () => {
            const sent = await call(sender, 'simplePeerSend', ka, bytes, system.writeBytes);
            const got = await call(receiver, 'received');
            return { seconds: (got.finishedAt - sent.startedAt) / 1000 };
          },
          cleanup: noCleanup,
        };
      }
      case 'peerjs': {
        const ids = [`tx${process.pid}x${++signalSeq}`, `rx${process.pid}x${signalSeq}`];
        await Promise.all([call(sender, 'peerJsOpen', ids[0], peerServerPort, timeoutMs), call(receiver, 'peerJsOpen', ids[1], peerServerPort, timeoutMs)]);
        await call(sender, 'peerJsConnect', ids[0], ids[1], timeoutMs);
        await call(receiver, 'peerJsReceive', ids[1], bytes, timeoutMs);
        return {
          go: async () => {
            const sent = await call(sender, 'peerJsSend', ids[1], bytes, system.messageBytes);
            const got = await call(receiver, 'received');
            return { seconds: (got.finishedAt - sent.startedAt) / 1000 };
          },
          cleanup: noCleanup,
        };
      }
    }
  };

  /** Chromium → node-datachannel: the page offers, a peer connection in this process answers and receives. */
  const arrangeNode = async (system: Extract<BrowserSystem, { kind: 'tallow' }>, bytes: number, timeoutMs: number) => {
    const pcs: RTCPeerConnection[] = [];
    const keys: string[] = [];
    try {
      for (let i = 0; i < system.connections; i++) {
        const session = `bench-node-${process.pid}-${++signalSeq}`;
        const pc = createNodePeerConnection();
        pcs.push(pc);
        const pageSide = call(sender, 'connectPeer', `${server.signalUrl}?session=${session}`, 'offerer');
        pageSide.catch(() => undefined);
        const transport = await server.signalling(session);
        const [key] = await Promise.all([pageSide, negotiate(pc, { role: 'answerer', transport })]);
        keys.push(key);
      }
    } catch (error) {
      pcs.forEach((pc) => pc.close());
      throw error;
    }
    return {
      go: async () => {
        const target = discardTarget();
        let sha256: string | undefined;
        const nodeSide = lastValueFrom(receiveFile(pcs, { target }).pipe(tap((e: TransferEvent) => e.type === 'completed' && (sha256 = e.sha256))), { defaultValue: undefined }).then(
          () => performance.timeOrigin + performance.now(),
        );
        nodeSide.catch(() => undefined);
        const sent = await call(sender, 'tallowSend', keys, bytes, system.options, timeoutMs);
        const finishedAt = await nodeSide;
        if (!sent.sha256 || sent.sha256 !== sha256) throw new Error(`tallow-rx → node: SHA-256 differ (${sent.sha256} / ${sha256})`);
        if (target.tally.bytes !== bytes) throw new Error(`tallow-rx → node: receiver got ${target.tally.bytes} of ${bytes} B`);
        return { seconds: (Math.max(sent.finishedAt, finishedAt) - sent.startedAt) / 1000, detail: sent.detail };
      },
      cleanup: () => pcs.forEach((pc) => pc.close()),
    };
  };

  return async ({ system, bytes, timeoutMs, profile }: RunRequest): Promise<RunRecord> => {
    bundle = system.kind === 'tallow' && system.baseline ? 'baseline' : 'bench';
    if (!bundles.includes(bundle)) throw new Error(`${system.name}: no ${bundle} bundle in the pages (bench/browser.ts --baseline DIR)`);
    await call(sender, 'prepareData', bytes);
    await Promise.all([cdp.sender.send('HeapProfiler.collectGarbage'), cdp.receiver.send('HeapProfiler.collectGarbage')]);
    const pages = system.kind === 'tallow' && system.receiver === 'node' ? (['sender'] as const) : (['sender', 'receiver'] as const);
    let arranged: Awaited<ReturnType<typeof arrange>> | undefined;
    try {
      arranged = await arrange(system, bytes, timeoutMs);
      await delay(SETTLE_MS);
      if (profile) for (const p of pages) await cdp[p].send('Profiler.enable').then(() => cdp[p].send('Profiler.start'));
      await Promise.all([call(sender, 'beginRun'), call(receiver, 'beginRun')]);
      const tasksBefore = await Promise.all(pages.map((p) => taskSeconds(cdp[p])));
      const procBefore = readProcessTree(process.pid);
      const threadsBefore = readThreads(procBefore);
      const runnerBefore = process.cpuUsage();
      const buffersBefore = system.kind === 'tallow' && !system.baseline ? await Promise.all(pages.map((p) => call(p === 'sender' ? sender : receiver, 'hashWorkerBuffers'))) : [];
      const udp = () => Promise.all([callIn('bench', sender, 'udpPackets'), pages.length === 2 ? callIn('bench', receiver, 'udpPackets') : undefined]);
      const udpBefore = await udp();
      const { seconds, detail: ranAs } = await arranged.go();
      const udpAfter = await udp();
      const lost = lostPackets(udpBefore, udpAfter);
      const buffersAfter = buffersBefore.length ? await Promise.all(pages.map((p) => call(p === 'sender' ? sender : receiver, 'hashWorkerBuffers'))) : [];
      const allocated = (i: number) => {
        const [b, a] = [buffersBefore[i], buffersAfter[i]];
        if (!a) return '-';
        const d = (k: 'big' | 'small', f: 'allocated' | 'reused') => a[k][f] - (b?.[k][f] ?? 0);
        return `${d('big', 'allocated')}+${d('small', 'allocated')} new / ${d('big', 'reused')}+${d('small', 'reused')} reused`;
      };
      const withBuffers = buffersAfter.length ? `${ranAs ?? ''}; hash worker buffers (1 MiB+256 KiB) send ${allocated(0)}, recv ${allocated(1)}` : ranAs;
      const detail = [withBuffers, lost].filter(Boolean).join('; ');
      const runnerUsed = process.cpuUsage(runnerBefore);
      const procAfter = readProcessTree(process.pid);
      const chromiumCpu = cpuBetween(procBefore, procAfter);
      const threads = threadsBetween(threadsBefore, readThreads(procAfter));
      delete (chromiumCpu as Record<string, number>).other;
      const tasksAfter = await Promise.all(pages.map((p) => taskSeconds(cdp[p])));
      const [lsend, lrecv] = await Promise.all([call(sender, 'endRun'), call(receiver, 'endRun')]);
      let profiles: RunRecord['profile'];
      if (profile) {
        const got = await Promise.all(pages.map((p) => cdp[p].send('Profiler.stop') as Promise<{ profile: CpuProfile }>));
        const lines = got.map((g) => summarizeCpuProfile(g.profile, 15));
        profiles = { sender: lines[0], receiver: lines[1] };
      }
      return {
        system: system.name,
        bytes,
        seconds,
        longTasks: { sender: lsend, receiver: pages.length === 2 ? lrecv : { count: 0, tbtMs: 0, maxMs: 0 } },
        mainThreadSeconds: { sender: tasksAfter[0] - tasksBefore[0], receiver: pages.length === 2 ? tasksAfter[1] - tasksBefore[1] : undefined },
        chromiumCpu,
        runnerCpuSeconds: (runnerUsed.user + runnerUsed.system) / 1e6,
        detail: [detail, frameNotes(lsend, lrecv), threads && `CPU s by thread: ${threads}`].filter(Boolean).join('; '),
        profile: profiles,
      };
    } finally {
      arranged?.cleanup();
      await Promise.all([call(sender, 'closeAll'), call(receiver, 'closeAll')]).catch(() => undefined);
      if (profile) for (const p of pages) await cdp[p].send('Profiler.disable').catch(() => undefined);
    }
  };
}

/** The longest long animation frame of each page (benchPage `endRun`), when the page's bundle reports it. */
const frameNotes = (send: { longest?: string }, recv: { longest?: string }) =>
  [send.longest && `longest frame sending: ${send.longest}`, recv.longest && `receiving: ${recv.longest}`].filter(Boolean).join('; ');

export default function browserRunner(context: ChromiumRunnerContext): void {
  const setup = prepare(context);
  setup.catch(() => undefined);
  // Requests run one after another, in arrival order.
  let queue: Promise<void> = Promise.resolve();
  context.port.onMessage((data) => {
    const request = data as RunRequest;
    queue = queue.then(async () => {
      let reply: RunReply;
      try {
        const run = await setup;
        reply = { id: request.id, ok: true, value: await run(request) };
      } catch (error) {
        reply = { id: request.id, ok: false, error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) };
      }
      context.port.send(reply);
    });
  });
}
