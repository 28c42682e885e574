/**
 * Flags of the browser benchmark's own command line (bench/browser.ts):
 *
 *   node --expose-gc --import tsx bench/browser.ts [--runs N] [--mib N] [--only <name part>]… [--grid] [--profile] [--baseline DIR [--baseline-label TEXT]]
 */

/** The parsed flags. */
export interface BrowserArgs {
  /** Timed runs per system (after one untimed warm-up each). Default 5. */
  readonly runs: number;
  /** MiB moved per run. Default 256. */
  readonly mib: number;
  /** Run only the systems whose name contains one of these. Default: all. */
  readonly only: readonly string[];
  /** Run the chunk-size × watermark grid instead of the systems. Default false. */
  readonly grid: boolean;
  /** After the runs, profile one tallow-rx run on both pages and print the top functions. Default false. */
  readonly profile: boolean;
  /**
   * An older checkout (e.g. `git archive <commit> | tar -x -C DIR`, with `node_modules` linked in) whose tallow-rx runs
   * as extra rows in the same rounds: before and after within one run. Default: none.
   */
  readonly baseline?: string;
  /** The baseline rows' label. Default: the directory's name. */
  readonly baselineLabel?: string;
}

/** Usage text for bad flags. */
export const BROWSER_USAGE = `usage: node --expose-gc --import tsx bench/browser.ts [--runs N] [--mib N] [--only <name part>]… [--grid] [--profile]
  --runs N     timed runs per system, medians over them (default 5)
  --mib N      MiB per run (default 256)
  --only TEXT  only systems whose name contains TEXT (repeatable)
  --grid       tallow-rx over one connection across chunk sizes and watermarks (Chromium tuning)
  --profile    also profile one tallow-rx run (CDP CPU profile of both pages), top self-time functions
  --baseline DIR        also run tallow-rx (1 and 2 connections) from the older checkout in DIR, interleaved
  --baseline-label TEXT  what the baseline rows are called (default: DIR's name)`;

/** Parses `argv` (without node and the script). Throws an Error naming the bad flag. */
export function parseBrowserArgs(argv: readonly string[]): BrowserArgs {
  let runs = 5;
  let mib = 256;
  let grid = false;
  let profile = false;
  let baseline: string | undefined;
  let baselineLabel: string | undefined;
  const only: string[] = [];
  const positive = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || value.startsWith('--') || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number, got ${value ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '--runs') {
      runs = positive(flag, value());
      if (!Number.isInteger(runs)) throw new Error(`--runs needs a whole number, got ${runs}`);
    } else if (flag === '--mib') mib = positive(flag, value());
    else if (flag === '--only') {
      const v = value();
      if (!v || v.startsWith('--')) throw new Error('--only needs a system name part');
      only.push(v);
    } else if (flag === '--grid') grid = true;
    else if (flag === '--profile') profile = true;
    else if (flag === '--baseline' || flag === '--baseline-label') {
      const v = value();
      if (!v || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      if (flag === '--baseline') baseline = v;
      else baselineLabel = v;
    } else throw new Error(`unknown flag ${argv[i]}`);
  }
  if (baselineLabel !== undefined && baseline === undefined) throw new Error('--baseline-label needs --baseline');
  return { runs, mib, only, grid, profile, baseline, baselineLabel };
}
