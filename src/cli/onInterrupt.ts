/** Ctrl-C for `send` and `receive`: the first SIGINT or SIGTERM stops the transfer cleanly, a second one exits at once. */
import { EXIT_INTERRUPTED } from './exitCodes';

/**
 * Calls `stop` on the first SIGINT or SIGTERM, and exits with 130 on the next one (a stop that hangs
 * must not trap the user). Returns a function that removes the handlers.
 */
export function onInterrupt(stop: () => void): () => void {
  let seen = false;
  const handler = (): void => {
    if (seen) process.exit(EXIT_INTERRUPTED);
    seen = true;
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
