/**
 * Pub ids (protocol 3.7: required with q=1 and on control channels). The server
 * treats a repeated (client id, pub id) as a resend (protocol 7.7), so an
 * id must not repeat across client instances that share a client id: a
 * random prefix per generator, then a counter.
 */
export function createIdGenerator(prefix: string = randomPrefix()): () => string {
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}

function randomPrefix(): string {
  const bytes = new Uint8Array(6);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
