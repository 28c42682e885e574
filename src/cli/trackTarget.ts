/**
 * A receive target that remembers its unfinished work (opens in flight, aborts not yet done), so the
 * command line can let a cancelled transfer tidy its files (drop part files with no bytes, record
 * the verified prefix for resume) before the process exits.
 */
import type { OpenedTarget, ReceiveTarget } from '../transfer/ReceiveTarget';

/** A tracked target and a way to wait for it. */
export interface TrackedTarget {
  readonly target: ReceiveTarget;
  /** Resolves once every open and abort started so far (and any they start) settled, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void>;
}

/** Wraps `target`; see {@link TrackedTarget}. */
export function trackTarget(target: ReceiveTarget): TrackedTarget {
  const pending = new Set<Promise<unknown>>();
  const track = <T>(work: T | Promise<T>): T | Promise<T> => {
    if (!(work instanceof Promise)) return work;
    const quiet = work.catch(() => undefined);
    pending.add(quiet);
    void quiet.then(() => pending.delete(quiet));
    return work;
  };
  const wrap = (opened: OpenedTarget): OpenedTarget => ({
    from: opened.from,
    prefix: opened.prefix,
    sink: opened.sink,
    finish: () => opened.finish(),
    abort: (reason) => track(opened.abort(reason)),
  });
  const tracked: ReceiveTarget = {
    open: (manifest, hints) => {
      const opened = target.open(manifest, hints);
      return opened instanceof Promise ? (track(opened.then(wrap)) as Promise<OpenedTarget>) : wrap(opened);
    },
    held: target.held && ((manifest) => target.held!(manifest)),
    folder: target.folder && ((path) => target.folder!(path)),
  };
  const settled = async (timeoutMs: number): Promise<void> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    // An open that settles may start an abort: wait until nothing is left.
    const drain = async (): Promise<void> => {
      while (pending.size) await Promise.all([...pending]);
    };
    await Promise.race([drain(), late]);
    clearTimeout(timer);
  };
  return { target: tracked, settled };
}
