/**
 * Command-line flags of `npm run bench`.
 */

/** The parsed flags. */
export interface BenchArgs {
  readonly quick: boolean;
  readonly network: boolean;
  readonly networkProfile?: string;
  /** Names given to `--only` (comma-separated or repeated); empty means "all". */
  readonly only: readonly string[];
  readonly help: boolean;
}

/** Usage text for `--help` and for bad flags. */
export const USAGE = `usage: npm run bench -- [--quick] [--network[=<profile>]] [--only <name>[,<name>…]] [--help]
  --quick              smaller inputs, fewer repetitions (smoke run)
  --network            also run benchmarks that need a network stack (WebRTC, emulated networks)
  --network=<profile>  the same, passing <profile> to benchmarks that emulate named networks
  --only <names>       run only these benchmarks (network ones included), comma-separated or repeated`;

/** Parses `argv` (without node and the script). Throws an Error naming the bad flag. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let network = false;
  let networkProfile: string | undefined;
  let help = false;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--network') network = true;
    else if (arg.startsWith('--network=')) {
      network = true;
      networkProfile = arg.slice('--network='.length) || undefined;
    } else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value || value.startsWith('--')) throw new Error('--only needs a benchmark name');
      only.push(...value.split(',').filter(Boolean));
    } else if (arg === '--help' || arg === '-h') help = true;
    else throw new Error(`unknown flag ${arg}`);
  }
  return { quick, network, networkProfile, only, help };
}
