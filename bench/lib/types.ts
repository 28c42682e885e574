/**
 * What a benchmark is and what it returns. Add a benchmark by writing a module
 * that exports a {@link Benchmark} and listing it in `registry.ts`.
 */

/** Options parsed from the command line, passed to every benchmark. */
export interface BenchOptions {
  /** `--quick`: smaller inputs and fewer repetitions (a smoke run, not a measurement). Default false. */
  readonly quick: boolean;
  /**
   * `--network` or `--network=<profile>`: also run the benchmarks marked
   * `network` (real WebRTC over 127.0.0.1, emulated networks). Default false.
   */
  readonly network: boolean;
  /** The `<profile>` of `--network=<profile>`, for benchmarks that emulate named networks. Default undefined. */
  readonly networkProfile?: string;
  /** Progress lines, written to stderr so stdout holds only the results table. */
  readonly log: (line: string) => void;
}

/** One row of the results table. Every field but `variant` is optional; empty cells print as `-`. */
export interface BenchResult {
  /** What was measured, e.g. `sha256+crc (full)`. */
  readonly variant: string;
  /** Throughput in MB/s (10^6 bytes per second), the median over repetitions. */
  readonly mbPerSecond?: number;
  /** Throughput relative to another row of the same benchmark: `ratio` × `ratioTo`. */
  readonly ratio?: number;
  /** The `variant` that `ratio` compares with. */
  readonly ratioTo?: string;
  /** Median wall time of one repetition, in seconds. */
  readonly seconds?: number;
  /** Highest resident set size sampled while the variant ran, in bytes. */
  readonly peakRss?: number;
  /** Anything else worth a column: spreads, ranges, model parameters. */
  readonly notes?: string;
}

/** A registered benchmark. */
export interface Benchmark {
  /** Short unique name, used by `--only <name>`. */
  readonly name: string;
  /** One line shown in `--help` and above the table. */
  readonly description: string;
  /** True when it needs a network stack; such benchmarks run only with `--network` or `--only`. Default false. */
  readonly network?: boolean;
  /** Runs every variant and returns one row per variant. */
  run(options: BenchOptions): Promise<BenchResult[]>;
}
