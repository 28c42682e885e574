/**
 * DOMException factory for the virtual channels: the same error class a browser
 * throws, with a plain `Error` fallback where `DOMException` is missing.
 */

/** The DOMException names the virtual channels throw. */
export type VirtualErrorName = 'InvalidStateError' | 'OperationError' | 'NotSupportedError' | 'SyntaxError';

/**
 * Creates a `DOMException` named `name` (or an `Error` with that `name` when the
 * runtime has no `DOMException`), as a browser's `RTCDataChannel` would throw.
 *
 * @param message The error message.
 * @param name The DOMException name, e.g. `'OperationError'`.
 * @return The error; throw it.
 */
export function domException(message: string, name: VirtualErrorName): Error {
  if (typeof DOMException === 'function') return new DOMException(message, name);
  const error = new Error(message);
  error.name = name;
  return error;
}
