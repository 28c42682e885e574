/**
 * Summarises a V8 CPU profile (CDP `Profiler.stop`, or a `.cpuprofile` file) to the functions
 * with the most self time, as a share of the busy (non-idle) sampled time.
 */

/** The parts of a V8 CPU profile used here. */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }>;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Frames that are not work: idle time, and the profiler's own bookkeeping. */
const IDLE = new Set(['(idle)', '(program)']);

/**
 * The `top` functions by self time: `"41.2%  812 ms  crc32 bundles/bench.js:120"`. The last line
 * gives the busy total; `(program)` (native work outside JS, e.g. the renderer's own) and idle
 * samples are left out of the shares and reported on that line.
 *
 * ## Example
 * ```ts
 * const { profile } = await cdp.send('Profiler.stop');
 * console.log(summarizeCpuProfile(profile, 10).join('\n'));
 * ```
 * @param profile the profile
 * @param top how many functions, default 15
 * @return one line per function, heaviest first, then a total line
 */
export function summarizeCpuProfile(profile: CpuProfile, top = 15): string[] {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  let programUs = 0;
  (profile.samples ?? []).forEach((id, i) => {
    const dt = profile.timeDeltas?.[i] ?? 0;
    const frame = frames.get(id);
    if (!frame) return;
    if (frame.functionName === '(idle)') idleUs += dt;
    else if (frame.functionName === '(program)') programUs += dt;
    if (IDLE.has(frame.functionName)) return;
    const file = frame.url ? `${frame.url.replace(/^.*\/\/[^/]+\//, '')}:${frame.lineNumber + 1}` : '(native)';
    const key = `${frame.functionName || '(anonymous)'} ${file}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
    busyUs += dt;
  });
  const lines = [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => `${((100 * us) / (busyUs || 1)).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  lines.push(`JS busy ${(busyUs / 1000).toFixed(0)} ms, (program) ${(programUs / 1000).toFixed(0)} ms, idle ${(idleUs / 1000).toFixed(0)} ms`);
  return lines;
}
