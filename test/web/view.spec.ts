// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, IdleTimeoutError, TransferCancelledError, TransferRejectedError, type TransferStats } from '../../src/index';
import { transferStats, type StatsInput } from '../../src/stats';
import { UNKNOWN } from '../../examples/web/format';
import { failureOutcome, progressView, qualityLevel, recommendationText, statsView } from '../../examples/web/view';
import { testScheduler } from '../helpers/marbles';

const MiB = 1024 * 1024;

/** A complete sample with every optional figure present. */
const sample = (over: Partial<TransferStats> = {}): TransferStats => ({
  timestamp: 10_000,
  elapsedMs: 3000,
  intervalMs: 250,
  final: false,
  throughput: { current: 95_240_000, average: 80_000_000, peak: 101_000_000, min: 0 },
  bytesDone: 9 * MiB,
  bytesTotal: 20 * MiB,
  percent: 45,
  etaSeconds: 65,
  rtt: { current: 0.4213, avg: 0.5, min: 0.3, max: 1.1 },
  jitterMs: 0.12,
  lossRate: 0.0042,
  buffers: { 'tallow-10': 0, 'tallow-2': 512 * 1024, 'tallow-0': 1536 },
  channels: 3,
  lanes: 2,
  chunkSize: 256 * 1024 - 32,
  bottleneck: 'network-bandwidth',
  quality: 86.6,
  recommendation: { action: 'more-channels', reason: 'loss 0.42 % at 95 Mbit/s' },
  signals: { samples: 4, throughputBps: 95_240_000 },
  ...over,
});

describe('statsView', () => {
  it('formats every figure of a full sample', () => {
    expect(statsView(sample())).toEqual({
      throughput: '11.9 MB/s',
      average: '10.0 MB/s',
      peak: '12.6 MB/s',
      percent: '45.0 %',
      bytes: '9.0 MiB of 20.0 MiB',
      eta: '1 min 05 s',
      rtt: '0.42 ms (0.30–1.10 ms)',
      jitter: '0.12 ms',
      loss: '0.42 %',
      channels: '3',
      lanes: '2',
      chunkSize: '256.0 KiB',
      buffers: [
        { label: 'tallow-0', bytes: 1536, text: '1.5 KiB' },
        { label: 'tallow-2', bytes: 512 * 1024, text: '512.0 KiB' },
        { label: 'tallow-10', bytes: 0, text: '0 B' },
      ],
      quality: '87 / 100',
      qualityValue: 87,
      qualityLevel: 'good',
      bottleneck: 'Network bandwidth',
      recommendation: 'Use more channels: loss 0.42 % at 95 Mbit/s',
    });
  });

  it('prints unknown figures as a dash, not as 0 or NaN', () => {
    const v = statsView(
      sample({
        bytesTotal: undefined,
        percent: undefined,
        etaSeconds: undefined,
        rtt: {},
        jitterMs: undefined,
        lossRate: undefined,
        channels: undefined,
        lanes: undefined,
        chunkSize: undefined,
        buffers: {},
        bottleneck: 'unknown',
        quality: 0,
        recommendation: { action: 'none', reason: '' },
      }),
    );
    expect(v).toMatchObject({
      bytes: '9.0 MiB',
      percent: UNKNOWN,
      eta: UNKNOWN,
      rtt: UNKNOWN,
      jitter: UNKNOWN,
      loss: UNKNOWN,
      channels: UNKNOWN,
      lanes: UNKNOWN,
      chunkSize: UNKNOWN,
      buffers: [],
      quality: '0 / 100',
      qualityLevel: 'poor',
      bottleneck: 'Not known yet',
      recommendation: 'No change',
    });
    expect(JSON.stringify(v)).not.toMatch(/NaN|undefined/);
  });

  it('shows the current RTT alone until the window has a range', () => {
    expect(statsView(sample({ rtt: { current: 12.34 } })).rtt).toBe('12.3 ms');
    expect(statsView(sample({ rtt: { current: 1, min: 1, max: 1, source: 'transport' } })).rtt).toBe('1 ms');
  });

  it('shows a transport RTT (Chromium: whole milliseconds) without invented decimals, a ping RTT with them', () => {
    expect(statsView(sample({ rtt: { source: 'transport', current: 1, min: 0, max: 3 } })).rtt).toBe('1 ms (< 1–3 ms)');
    expect(statsView(sample({ rtt: { source: 'application', current: 0.4213, min: 0.3, max: 1.1 } })).rtt).toBe('0.42 ms (0.30–1.10 ms)');
  });
});

describe('statsView over transferStats (virtual time)', () => {
  it('one sample a second: percent, bytes, channels, buffers', () => {
    const views: ReturnType<typeof statsView>[] = [];
    testScheduler().run(({ cold, flush }) => {
      const input$ = cold<StatsInput>('(tcrb) 499ms p 499ms |', {
        t: { kind: 'total', bytes: 4 * MiB },
        c: { kind: 'channels', channels: 2, lanes: 1 },
        r: { kind: 'rtt', ms: 2 },
        b: { kind: 'buffer', label: 'tallow-1', bytes: 2048 },
        p: { kind: 'progress', bytes: 1 * MiB },
      });
      input$.pipe(transferStats({ sampleIntervalMs: 1000 })).subscribe((s) => views.push(statsView(s)));
      flush();
    });
    expect(views.length).toBeGreaterThanOrEqual(1);
    const last = views.at(-1)!;
    expect(last.percent).toBe('25.0 %');
    expect(last.bytes).toBe('1.0 MiB of 4.0 MiB');
    expect(last.channels).toBe('2');
    expect(last.lanes).toBe('1');
    // transferStats marks an `rtt` input without a source as the transport's own measurement.
    expect(last.rtt).toMatch(/^2(\.00)? ms/);
    expect(last.buffers).toEqual([{ label: 'tallow-1', bytes: 2048, text: '2.0 KiB' }]);
    expect(last.throughput).toMatch(/MB\/s$/);
  });
});

describe('recommendationText', () => {
  it('names the profile of a switch', () => {
    expect(recommendationText({ action: 'switch-profile', profile: 'wifi', reason: 'RTT 40 ms' })).toBe('Switch to profile “wifi”: RTT 40 ms');
  });
  it.each([
    ['more-lanes', 'Use more lanes: r'],
    ['smaller-chunks', 'Use smaller chunks: r'],
    ['larger-chunks', 'Use larger chunks: r'],
    ['none', 'No change: r'],
  ] as const)('%s', (action, text) => expect(recommendationText({ action, reason: 'r' })).toBe(text));
});

describe('qualityLevel', () => {
  it.each([
    [100, 'good'],
    [70, 'good'],
    [69, 'fair'],
    [40, 'fair'],
    [39, 'poor'],
    [0, 'poor'],
  ] as const)('%d → %s', (score, level) => expect(qualityLevel(score)).toBe(level));
});

describe('progressView', () => {
  it('clamps the value and formats bytes', () => {
    expect(progressView({ bytes: 10 * MiB, total: 20 * MiB, percent: 50 })).toEqual({ value: 50, percent: '50.0 %', bytes: '10.0 MiB of 20.0 MiB' });
    expect(progressView({ bytes: 0, total: 0, percent: 100 })).toEqual({ value: 100, percent: '100 %', bytes: '0 B of 0 B' });
    expect(progressView({ bytes: 0, total: 1, percent: NaN }).value).toBe(0);
  });
});

describe('failureOutcome', () => {
  it('names who cancelled', () => {
    expect(failureOutcome(new TransferCancelledError('remote', 'cancelled by sender'), 'receiver')).toEqual({ state: 'cancelled', text: 'Cancelled by the sender.' });
    expect(failureOutcome(new TransferCancelledError('remote', 'cancelled by receiver'), 'sender')).toEqual({ state: 'cancelled', text: 'Cancelled by the receiver.' });
    expect(failureOutcome(new TransferCancelledError('local'), 'sender')).toEqual({ state: 'cancelled', text: 'Cancelled.' });
  });
  it('declined, stalled, connection lost, anything else', () => {
    expect(failureOutcome(new TransferRejectedError('declined by receiver'), 'sender')).toEqual({ state: 'declined', text: 'Declined by the receiver.' });
    expect(failureOutcome(new IdleTimeoutError(30_000), 'receiver')).toEqual({ state: 'failed', text: 'Stalled: nothing arrived for 30 s.' });
    expect(failureOutcome(new ChannelClosedError('control channel closed'), 'sender')).toEqual({ state: 'failed', text: 'Connection lost.' });
    expect(failureOutcome(new TypeError('boom'), 'sender')).toEqual({ state: 'failed', text: 'Failed: TypeError: boom' });
    expect(failureOutcome('weird', 'sender')).toEqual({ state: 'failed', text: 'Failed: Error: weird' });
  });
});
