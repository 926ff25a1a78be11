/**
 * The front of every port (ARCHITECTURE rule 16). Each accepted TCP socket
 * gets an error listener before anything can fail on it; with PROXY_PROTOCOL
 * its PROXY v2 header gives the real client address; then the connection
 * limits decide. An admitted socket is handed to its protocol (NUL-framed
 * TCP, TLS, HTTP and WebSocket) and counted until it closes; a refused one is
 * destroyed at once, never half-closed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { readProxyHeader } from './proxy-header';

/** What the front door needs of the broker. */
export interface Admission {
  /** Whether a new connection from `address` may open; if so, release() is owed when it closes. */
  admit(address: string): boolean;
  release(address: string): void;
  /** Errors of sockets that never became a connection: only worth a debug line. */
  socketError(message: string): void;
  /** Errors of the listening socket itself, such as accept() out of file descriptors. */
  listenerError(message: string): void;
}

export interface ListenerOptions {
  proxyProtocol: boolean;
  /** How long the PROXY header may take to arrive, ms. */
  headerTimeoutMs: number;
}

/** The client's address of each admitted socket (and of the TLS socket over it). */
const peerAddresses = new WeakMap<object, string>();

/** The real client address: from the PROXY header when there was one, else the socket's peer. */
export function peerAddress(socket: { remoteAddress?: string | undefined }): string {
  return peerAddresses.get(socket) ?? socket.remoteAddress ?? 'unknown';
}

export function rememberPeerAddress(socket: object, address: string): void {
  peerAddresses.set(socket, address);
}

export interface FrontDoor {
  readonly server: Server;
  /** Destroys every admitted socket still open (after the sessions on them were closed). */
  destroyAll(): void;
}

export function createListener(admission: Admission, options: ListenerOptions, handoff: (socket: Socket, address: string) => void): FrontDoor {
  const open = new Set<Socket>();
  const admitted = (socket: Socket, address: string) => {
    if (socket.destroyed) return;
    if (!admission.admit(address)) {
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      admission.release(address);
    });
    // Only a PROXY header makes the two differ; most sockets need no entry.
    if (address !== socket.remoteAddress) rememberPeerAddress(socket, address);
    handoff(socket, address);
  };
  const server = createServer((socket) => {
    socket.on('error', (error) => admission.socketError(`socket from ${socket.remoteAddress}: ${error.message}`));
    if (!options.proxyProtocol) return admitted(socket, socket.remoteAddress ?? 'unknown');
    readProxyHeader(socket, options.headerTimeoutMs).then((header) => {
      if (header === null) {
        admission.socketError(`connection from ${socket.remoteAddress} without a valid PROXY v2 header`);
        socket.destroy();
      } else {
        admitted(socket, header === 'local' ? socket.remoteAddress ?? 'unknown' : header.address);
      }
    });
  });
  // accept() itself fails when the process is out of file descriptors (EMFILE): the server
  // emits it, and an unhandled 'error' would end the process.
  server.on('error', (error) => admission.listenerError(error.message));
  return {
    server,
    destroyAll: () => {
      for (const socket of open) socket.destroy();
    },
  };
}
