/** What `run` throws (`undefined` when it returns): for tests that check the error's class, message and details. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
