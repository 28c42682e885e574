/**
 * Closes TCP connections that make no HTTP request (and no WebSocket upgrade) within `ms` of connecting.
 * Node's `headersTimeout` ends a request whose headers trickle in, but a connection that sends nothing at
 * all stays open for good: an outside check held 2,000 such connections open on one server from one address.
 * A connection is spared once its first request or upgrade arrives (keep-alive and the socket's ping then
 * watch it). Returns a function that stops watching new connections.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export function dropSilentConnections(server: Server, ms: number): () => void {
  const timers = new Map<Socket, ReturnType<typeof setTimeout>>();
  const spare = (socket: Socket): void => {
    clearTimeout(timers.get(socket));
    timers.delete(socket);
  };
  const onConnection = (socket: Socket): void => {
    const timer = setTimeout(() => {
      timers.delete(socket);
      socket.destroy();
    }, ms);
    timer.unref();
    timers.set(socket, timer);
    socket.once('close', () => spare(socket));
  };
  const onRequest = (req: { socket: Socket }): void => spare(req.socket);
  const onUpgrade = (_req: unknown, socket: Socket): void => spare(socket);
  server.on('connection', onConnection);
  server.on('request', onRequest);
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('connection', onConnection);
    server.off('request', onRequest);
    server.off('upgrade', onUpgrade);
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
  };
}
