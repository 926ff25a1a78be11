/**
 * PROXY protocol v2 (HAProxy `send-proxy-v2`): the binary header a load
 * balancer writes before the client's first byte, naming the client's real
 * address. Read incrementally, bounded in size and time; what follows the
 * header is put back on the socket for the protocol that reads next.
 */
import { SocketAddress, type Socket } from 'node:net';
import { Command, IPv4ProxyAddress, IPv6ProxyAddress, V2ProxyProtocol } from 'proxy-protocol-js';

/** `\r\n\r\n\0\r\nQUIT\n`: the first 12 bytes of every v2 header. */
const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
/** Signature, version and command, family, and the 2-byte length of the rest. */
const FIXED_PART = 16;
/** Addresses plus the TLVs HAProxy may add (SSL details, unique id): a longer header is refused. */
const MAX_HEADER_BYTES = FIXED_PART + 2048;

/** The client's address; 'local' for the proxy's own connections (health checks); null: no valid header. */
export type ProxyHeader = { address: string } | 'local' | null;

function formatAddress(header: V2ProxyProtocol): string | null {
  const { proxyAddress } = header;
  if (proxyAddress instanceof IPv4ProxyAddress) return proxyAddress.sourceAddress.address.join('.');
  if (proxyAddress instanceof IPv6ProxyAddress) {
    const bytes = proxyAddress.sourceAddress.address;
    const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
    return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
  }
  return null;
}

/** Parses one complete header; null when it is not a PROXY v2 header for a TCP client. */
export function parseProxyHeader(bytes: Uint8Array): ProxyHeader {
  let header: V2ProxyProtocol;
  try {
    header = V2ProxyProtocol.parse(bytes);
  } catch {
    return null;
  }
  if (header.command === Command.LOCAL) return 'local';
  const address = formatAddress(header);
  return address === null ? null : { address };
}

/**
 * Reads the header at the start of `socket`. Resolves once it is complete,
 * invalid, too long, too late (`timeoutMs`) or the socket is gone; the socket
 * is left paused with the bytes after the header unread.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyHeader> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (result: ProxyHeader, rest?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const signed = Math.min(buffered.length, SIGNATURE.length);
      if (!buffered.subarray(0, signed).equals(SIGNATURE.subarray(0, signed))) return finish(null);
      if (buffered.length < FIXED_PART) return;
      const total = FIXED_PART + buffered.readUInt16BE(14);
      if (total > MAX_HEADER_BYTES) return finish(null);
      if (buffered.length < total) return;
      finish(parseProxyHeader(buffered.subarray(0, total)), buffered.subarray(total));
    };
    const onClose = () => finish(null);
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
