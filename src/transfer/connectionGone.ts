/** Whether a peer connection has closed or failed: no channel will open or carry anything on it again. */
export const connectionGone = (pc: { readonly connectionState?: string }): boolean => pc.connectionState === 'closed' || pc.connectionState === 'failed';
