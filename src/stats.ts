/**
 * `tallow-rx/stats`: the building blocks of the stats stream, for a pipeline
 * composed by hand (docs/stats.md). Every transfer already emits its
 * `TransferStats` (exported from `tallow-rx`) through `stats$`.
 */
export { answerPings } from './stats/answerPings';
export { bitrate$ } from './stats/bitrate$';
export type { Bottleneck, Recommendation, StatsInput, TransferSignals } from './stats/statsTypes';
export { loss$ } from './stats/loss$';
export { pingRtt, type PingConfig } from './stats/pingRtt';
export { rtt$ } from './stats/rtt$';
export { statsSamples, type StatsSamplesConfig } from './stats/statsSamples';
export { transferStats, type TransferStatsConfig } from './stats/transferStats';
