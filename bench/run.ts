/**
 * `npm run bench` (node --expose-gc --import tsx bench/run.ts): runs the
 * registered benchmarks one after another and prints one Markdown table.
 * Progress goes to stderr, the machine line and the table to stdout.
 */
import { parseArgs, USAGE } from './lib/args';
import { collectGarbage, formatBytes, machineInfo } from './lib/measure';
import { benchmarks, type BenchResult } from './lib/registry';
import { formatTable } from './lib/table';

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(`${USAGE}\n\nbenchmarks:\n${benchmarks.map((b) => `  ${b.name.padEnd(12)} ${b.network ? '(network) ' : ''}${b.description}`).join('\n')}`);
    return 0;
  }
  const unknown = args.only.filter((name) => !benchmarks.some((b) => b.name === name));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`);
    return 2;
  }
  const selected = args.only.length ? benchmarks.filter((b) => args.only.includes(b.name)) : benchmarks.filter((b) => !b.network || args.network);
  const skipped = benchmarks.filter((b) => !selected.includes(b));

  const m = machineInfo();
  console.log(`# tallow-rx bench${args.quick ? ' (--quick)' : ''}`);
  console.log(`${m.cpu}, nproc ${m.nproc}, ${m.memory} RAM, Node ${m.node}, load average ${m.load.toFixed(2)}${(globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc: RSS figures are noisier)'}`);
  if (skipped.length) console.log(`skipped (need --network or --only): ${skipped.map((b) => b.name).join(', ')}`);

  const rows: Array<{ benchmark: string; result: BenchResult }> = [];
  let failed = 0;
  for (const bench of selected) {
    console.error(`[${bench.name}] ${bench.description}`);
    collectGarbage();
    const started = performance.now();
    try {
      const results = await bench.run({
        quick: args.quick,
        network: args.network,
        networkProfile: args.networkProfile,
        log: (line) => console.error(`[${bench.name}] ${line}`),
      });
      for (const result of results) rows.push({ benchmark: bench.name, result });
    } catch (err) {
      failed++;
      console.error(`[${bench.name}] FAILED: ${(err as Error)?.stack ?? err}`);
      rows.push({ benchmark: bench.name, result: { variant: 'FAILED', notes: String((err as Error)?.message ?? err) } });
    }
    console.error(`[${bench.name}] done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  console.log('');
  console.log(formatTable(rows));
  console.log('');
  console.log(`process peak RSS (getrusage maxrss): ${formatBytes(process.resourceUsage().maxRSS * 1024)}`);
  return failed ? 1 : 0;
}

/**
 * Exits once the output is flushed, even when native threads stay up: after libdatachannel's `cleanup()` failed
 * ("cleanup timeout (possible deadlock)", seen after 16 lanes), the process stayed alive and kept the shared
 * bench lock for 27 minutes. The timer is unref'd: a process that can exit on its own does so at once.
 */
const exitSoon = (code: number): void => {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
};

main().then(exitSoon, (err) => {
  console.error(err);
  exitSoon(1);
});
