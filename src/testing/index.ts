/**
 * `tallow-rx/testing`: virtual data channels for marble-testing transfer
 * strategies without WebRTC. See docs/testing.md.
 */
export { createVirtualLink, type VirtualChannelsInit, type VirtualLink, type VirtualNetworkChanges } from './createVirtualLink';
export { domException, type VirtualErrorName } from './domException';
export { mulberry32 } from './mulberry32';
export { VirtualDataChannel, type VirtualChannelInit, type VirtualChannelState } from './VirtualDataChannel';
export { VirtualEventTarget, type VirtualEvent, type VirtualListener } from './VirtualEventTarget';
export {
  DEFAULT_VIRTUAL_DELAY,
  DEFAULT_VIRTUAL_SEED,
  resolveVirtualLinkConfig,
  type ResolvedVirtualLinkConfig,
  type VirtualLinkConfig,
} from './VirtualLinkConfig';
export { VirtualPeer, type VirtualDataChannelInit, type VirtualSide } from './VirtualPeer';
export { type VirtualChannelStats, type VirtualLinkStats, type VirtualTrafficStats } from './VirtualStats';
