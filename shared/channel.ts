/** Channel name rules (protocol 6.1, 6.2). */

export type ChannelKind = 'normal' | 'control' | 'p2p';

export function channelKind(name: string): ChannelKind {
  const first = name.charCodeAt(0);
  if (first === 36 /* $ */) return 'control';
  if (first === 35 /* # */) return 'p2p';
  return 'normal';
}

/**
 * Trims a channel name and answers null when it is not a name at all:
 * empty after trimming, or `$` / `#` alone.
 */
export function normaliseChannel(raw: string): string | null {
  const name = raw.trim();
  if (name === '' || name === '$' || name === '#') return null;
  return name;
}

/** The P2P channel the server subscribes every session to. */
export function p2pChannel(clientId: string): string {
  return '#' + clientId;
}
