/**
 * TLS over an admitted socket, for the TLS socket and TLS WebSocket ports:
 * the handshake must finish within the connect deadline, and a failed one
 * costs a debug line, never the process.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { rememberPeerAddress } from './listener';

export interface TlsOptions {
  context: SecureContext;
  handshakeTimeoutMs: number;
  onError(message: string): void;
}

/** Calls `secured` with the TLS socket once its handshake is done; destroys the socket otherwise. */
export function startTls(socket: Socket, address: string, options: TlsOptions, secured: (tls: TLSSocket) => void): void {
  const tls = new TLSSocket(socket, { isServer: true, secureContext: options.context });
  tls.on('error', (error) => options.onError(`TLS from ${address}: ${error.message}`));
  if (address !== socket.remoteAddress) rememberPeerAddress(tls, address);
  const timer = setTimeout(() => {
    options.onError(`TLS handshake from ${address} not done in ${options.handshakeTimeoutMs} ms`);
    tls.destroy();
  }, options.handshakeTimeoutMs);
  tls.once('close', () => {
    clearTimeout(timer);
    // The raw socket's 'close' releases its place in the connection limits.
    socket.destroy();
  });
  tls.once('secure', () => {
    clearTimeout(timer);
    secured(tls);
  });
}
