/** A ReceiveTarget wrapper for tests that must know when a failed transfer's target has let go. */
import type { OpenedTarget, ReceiveTarget } from 'tallow-rx';

/** `inner`, recording when each opened target's `abort` has settled. */
export function watchAborts(inner: ReceiveTarget): { target: ReceiveTarget; aborts: Promise<unknown>[]; settled: () => boolean } {
  const aborts: Promise<unknown>[] = [];
  let settled = 0;
  const target: ReceiveTarget = {
    ...inner,
    open: async (...args: Parameters<ReceiveTarget['open']>): Promise<OpenedTarget> => {
      const opened = await inner.open(...args);
      return {
        ...opened,
        abort: (reason: unknown) => {
          const p = Promise.resolve(opened.abort(reason)).finally(() => settled++);
          aborts.push(p);
          return p;
        },
      };
    },
  };
  return { target, aborts, settled: () => aborts.length > 0 && settled === aborts.length };
}
