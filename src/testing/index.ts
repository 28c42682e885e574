/**
 * `tallow-rx/testing`: virtual data channels for marble-testing transfer
 * strategies without WebRTC. docs/testing.md documents every name here.
 */
export { createVirtualLink, type VirtualLink } from './createVirtualLink';
export { domException } from './domException';
export { mulberry32 } from './mulberry32';
export { VirtualDataChannel, type VirtualChannelInit } from './VirtualDataChannel';
export { VirtualEventTarget } from './VirtualEventTarget';
export type { ResolvedVirtualLinkConfig, VirtualLinkConfig } from './VirtualLinkConfig';
export { VirtualPeer } from './VirtualPeer';
export type { VirtualLinkStats } from './VirtualStats';
