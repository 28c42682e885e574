/**
 * Holds back the opening of a virtual link's channels until its connection is
 * up: `VirtualPeerConnection` creates its link closed and opens the gate when
 * the answer is applied. Internal plumbing, not for users.
 */
export class VirtualGate {
  /** Callbacks waiting for `open()`, in order. */
  #waiting: (() => void)[] | undefined = [];

  /** True once `open()` was called. */
  get isOpen(): boolean {
    return this.#waiting === undefined;
  }

  /** Runs `fn` now if the gate is open, otherwise when it opens. */
  whenOpen(fn: () => void): void {
    if (this.#waiting) this.#waiting.push(fn);
    else fn();
  }

  /** Opens the gate and runs what waited, in order. Idempotent. */
  open(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    for (const fn of waiting ?? []) fn();
  }
}
