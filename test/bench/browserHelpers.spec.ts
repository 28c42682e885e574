import { describe, expect, it } from 'vitest';
import { parseBrowserArgs } from '../../bench/lib/browser/browserArgs';
import { cpuBetween, parseStat, processGroup, splitCmdline, threadKind, threadsBetween } from '../../bench/lib/browser/processCpu';
import { summarizeCpuProfile } from '../../bench/lib/browser/cpuProfile';
import { lostPackets, type UdpCounters } from '../../bench/lib/browser/lostPackets';

describe('parseBrowserArgs', () => {
  it('defaults to 5 runs of 256 MiB, every system', () => {
    expect(parseBrowserArgs([])).toEqual({ runs: 5, mib: 256, only: [], grid: false, profile: false });
  });

  it('reads --runs, --mib (both forms), repeated --only, --grid and --profile', () => {
    expect(parseBrowserArgs(['--runs', '3', '--mib=64', '--only', 'raw', '--only=tallow', '--grid', '--profile'])).toEqual({ runs: 3, mib: 64, only: ['raw', 'tallow'], grid: true, profile: true });
    expect(parseBrowserArgs(['--baseline', '/tmp/old', '--baseline-label=180f97a'])).toMatchObject({ baseline: '/tmp/old', baselineLabel: '180f97a' });
  });

  it('rejects unknown flags and bad numbers', () => {
    expect(() => parseBrowserArgs(['--fast'])).toThrow('unknown flag --fast');
    expect(() => parseBrowserArgs(['--baseline'])).toThrow('--baseline needs a value');
    expect(() => parseBrowserArgs(['--baseline-label', 'x'])).toThrow('--baseline-label needs --baseline');
    expect(() => parseBrowserArgs(['--runs', '0'])).toThrow('--runs needs a positive number');
    expect(() => parseBrowserArgs(['--runs', '2.5'])).toThrow('whole number');
    expect(() => parseBrowserArgs(['--mib'])).toThrow('--mib needs a positive number, got nothing');
  });
});

describe('processCpu', () => {
  it('groups Chromium processes by --type, whether the title was rewritten or not', () => {
    expect(processGroup(splitCmdline('/usr/lib/chromium/chromium --type=renderer --lang=en'))).toBe('renderer');
    expect(processGroup(splitCmdline('/usr/lib/chromium/chromium\0--type=utility\0--utility-sub-type=network.mojom.NetworkService\0'))).toBe('network');
    expect(processGroup(['/usr/lib/chromium/chromium', '--headless'])).toBe('browser');
    expect(processGroup(['/usr/lib/chromium/chromium', '--type=gpu-process'])).toBe('gpu');
    expect(processGroup(['/bin/sh', '/usr/bin/chromium'])).toBe('other');
  });

  it('reads ppid and utime + stime from /proc/<pid>/stat, even with spaces in the name', () => {
    const stat = '4242 (Chrome_Child IO) S 4200 4242 1 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0 1000 0 0';
    expect(parseStat(stat)).toEqual({ ppid: 4200, ticks: 325 });
  });

  it('counts CPU between readings per group; a new process counts from zero', () => {
    const before = new Map([[1, { group: 'renderer', cpuSeconds: 1 }]]);
    const after = new Map([
      [1, { group: 'renderer', cpuSeconds: 3.5 }],
      [2, { group: 'renderer', cpuSeconds: 0.5 }],
      [3, { group: 'network', cpuSeconds: 1 }],
    ]);
    expect(cpuBetween(before, after)).toEqual({ renderer: 3, network: 1 });
  });
});

describe('summarizeCpuProfile', () => {
  it('ranks functions by self time and leaves idle and (program) out of the shares', () => {
    const frame = (functionName: string, url = 'http://127.0.0.1:1/bundles/bench.js', lineNumber = 9) => ({ functionName, url, lineNumber });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('crc32') },
        { id: 3, callFrame: frame('update', 'http://127.0.0.1:1/bundles/bench.js', 99) },
        { id: 4, callFrame: frame('(program)', '') },
      ],
      samples: [1, 2, 2, 2, 3, 4],
      timeDeltas: [5000, 1000, 1000, 1000, 1000, 2000],
    };
    expect(summarizeCpuProfile(profile, 5)).toEqual([' 75.0%       3 ms  crc32 bundles/bench.js:10', ' 25.0%       1 ms  update bundles/bench.js:100', 'JS busy 4 ms, (program) 2 ms, idle 5 ms']);
  });
});

describe('lostPackets', () => {
  it('counts what the sending page sent during the run and the receiving page did not receive', () => {
    const before = [{ sent: 100, received: 50 }, { sent: 60, received: 90 }] as const;
    expect(lostPackets([...before], [{ sent: 30_121, received: 15_050 }, { sent: 15_060, received: 29_890 }])).toBe('lost 221 of 30,021 packets');
  });

  it('gives no figure when a connection of either page closed during the run (its counters went with it)', () => {
    const before: [UdpCounters, UdpCounters] = [{ sent: 0, received: 0, closed: 2 }, { sent: 0, received: 0, closed: 2 }];
    expect(lostPackets(before, [{ sent: 900, received: 10, closed: 2 }, { sent: 10, received: 100, closed: 3 }])).toBe('packets lost: not known (a connection closed during the run)');
    expect(lostPackets(before, [{ sent: 900, received: 10, closed: 2 }, { sent: 10, received: 890, closed: 2 }])).toBe('lost 10 of 900 packets');
  });

  it('says nothing without a receiving page (the Node receiver), and never a negative loss', () => {
    expect(lostPackets([{ sent: 0, received: 0 }, undefined], [{ sent: 10, received: 5 }, undefined])).toBeUndefined();
    expect(lostPackets([{ sent: 0, received: 0 }, { sent: 0, received: 0 }], [{ sent: 10, received: 0 }, { sent: 0, received: 12 }])).toBe('lost 0 of 10 packets');
  });
});

describe('threadKind and threadsBetween', () => {
  it('drops the numbers Chromium appends to pool threads', () => {
    expect(threadKind('ThreadPoolForeg')).toBe('ThreadPoolForeg');
    expect(threadKind('DedicatedWorker thread 3')).toBe('DedicatedWorker thread');
    expect(threadKind('WebRTC_Network')).toBe('WebRTC_Network');
    expect(threadKind('V8 DefaultWorke')).toBe('V8 DefaultWorke');
    expect(threadKind('Chrome_ChildIOT')).toBe('Chrome_ChildIOT');
  });

  it('sums each kind over threads between two readings, heaviest first; new threads count from zero', () => {
    const before = new Map([
      ['1/1', { name: 'renderer:CrRendererMain', cpuSeconds: 10 }],
      ['2/2', { name: 'renderer:CrRendererMain', cpuSeconds: 4 }],
    ]);
    const after = new Map([
      ['1/1', { name: 'renderer:CrRendererMain', cpuSeconds: 12.5 }],
      ['2/2', { name: 'renderer:CrRendererMain', cpuSeconds: 5 }],
      ['2/9', { name: 'renderer:DedicatedWorker thread', cpuSeconds: 1.2 }],
      ['3/3', { name: 'network:NetworkService', cpuSeconds: 0.01 }],
    ]);
    expect(threadsBetween(before, after)).toBe('renderer:CrRendererMain 3.5, renderer:DedicatedWorker thread 1.2');
  });
});
