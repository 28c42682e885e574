/** simple-peer's own browser build (browserify, UMD): the SimplePeer constructor as its default export. */
declare module 'simple-peer/simplepeer.min.js' {
  const SimplePeer: unknown;
  export default SimplePeer;
}
