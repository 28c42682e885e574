/**
 * `tallow-rx/testing`: virtual data channels for marble-testing transfer
 * strategies without WebRTC. docs/testing.md documents every name here.
 */
export { createVirtualLink, type VirtualLink, type VirtualNetworkChanges } from './createVirtualLink';
export { createVirtualNetwork, type VirtualNetwork, type VirtualNetworkStats } from './createVirtualNetwork';
export { domException } from './domException';
export { mulberry32 } from './mulberry32';
export { SyncPromise } from './SyncPromise';
export type { VirtualAssociationStats } from './VirtualAssociation';
export type { VirtualBottleneckStats } from './VirtualBottleneck';
export { VirtualDataChannel, type VirtualChannelInit } from './VirtualDataChannel';
export { VirtualEventTarget } from './VirtualEventTarget';
export type { ResolvedVirtualLinkConfig, VirtualLinkConfig } from './VirtualLinkConfig';
export type { ResolvedVirtualNetworkConfig, VirtualNetworkConfig } from './VirtualNetworkConfig';
export { VirtualPeer } from './VirtualPeer';
export { VirtualPeerConnection, type VirtualConnectionState, type VirtualIceCandidate, type VirtualSessionDescription } from './VirtualPeerConnection';
export type { VirtualLinkStats } from './VirtualStats';
