/**
 * Every benchmark `npm run bench` knows, in the order they run. To add one,
 * export a `Benchmark` (see ./types.ts) from a module under bench/ and append
 * it here; set `network: true` if it needs WebRTC or an emulated network.
 */
import { browserBenchmark } from '../browser';
import { manyFilesBenchmark } from '../manyFiles';
import { networkBenchmark } from '../network';
import { pipelineBenchmark } from '../pipeline';
import { realBenchmark } from '../real';
import { twoProcessBenchmark } from '../twoProcess';
import type { Benchmark } from './types';

export type { Benchmark, BenchOptions, BenchResult } from './types';

export const benchmarks: readonly Benchmark[] = [pipelineBenchmark, realBenchmark, twoProcessBenchmark, networkBenchmark, manyFilesBenchmark, browserBenchmark];
