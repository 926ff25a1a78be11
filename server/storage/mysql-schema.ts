/** Schema, session settings and small SQL helpers of MysqlStorage (mysql.ts, mysql-batch.ts). */
import { createHash } from 'node:crypto';

/**
 * Keys must compare exactly (protocol 3.3, 6.1: `alice` and `Alice`, `cafe` and `café`
 * are different clients and channels). A binary collation does that; the
 * NO PAD ones also keep `a` and `a ` apart, which `utf8mb4_bin` does not.
 */
export const COLLATIONS = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin'];

// Ids are VARCHAR(255) and channels VARCHAR(1024): a longer one fails the
// call instead of being cut. A channel key would pass InnoDB's 3072-byte
// index limit (1024 × 4 bytes), so tables key on its SHA-256 instead.
// The queue's AUTO_INCREMENT seq is the insertion order, which is the
// delivery order (protocol 5.5: stored QoS 1 messages go out oldest first). Like
// the SQLite schema, (client_id, id) is the queue's only secondary index: it
// also serves queuedFor, unsubscribe and queuedCounts, which read by client.
export const schema = (c: string) => [
  `CREATE TABLE IF NOT EXISTS subscriptions (
     client_id    VARCHAR(255)  COLLATE ${c} NOT NULL,
     channel_hash BINARY(32)    NOT NULL,
     channel      VARCHAR(1024) COLLATE ${c} NOT NULL,
     persistent   BOOLEAN       NOT NULL,
     PRIMARY KEY (client_id, channel_hash)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${c}`,
  `CREATE TABLE IF NOT EXISTS queue (
     seq       BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     client_id VARCHAR(255)  COLLATE ${c} NOT NULL,
     id        VARCHAR(255)  COLLATE ${c} NOT NULL,
     channel   VARCHAR(1024) COLLATE ${c} NOT NULL,
     data      LONGTEXT      COLLATE ${c} NOT NULL,
     sender    VARCHAR(255)  COLLATE ${c} NOT NULL,
     UNIQUE KEY queue_client_id (client_id, id)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${c}`,
  `CREATE TABLE IF NOT EXISTS retained (
     channel_hash BINARY(32)    NOT NULL PRIMARY KEY,
     channel      VARCHAR(1024) COLLATE ${c} NOT NULL,
     data         LONGTEXT      COLLATE ${c} NOT NULL,
     sender       VARCHAR(255)  COLLATE ${c} NOT NULL
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${c}`,
  // When each client was last seen, in ms since epoch (expireClients).
  `CREATE TABLE IF NOT EXISTS clients (
     client_id VARCHAR(255) COLLATE ${c} NOT NULL PRIMARY KEY,
     last_seen BIGINT       NOT NULL,
     KEY clients_last_seen (last_seen)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${c}`,
];

/**
 * A database made before the clients table: every client it knows counts as
 * seen at the upgrade (the one value), so expiry starts from then. Rows a
 * node wrote meanwhile stay as they are.
 */
export const BACKFILL_CLIENTS = `
  INSERT INTO clients (client_id, last_seen)
  SELECT ids.client_id, ? FROM (SELECT client_id FROM subscriptions UNION SELECT client_id FROM queue) ids
  ON DUPLICATE KEY UPDATE last_seen = clients.last_seen`;

// Strict, so a value too long fails instead of being cut; and without
// NO_BACKSLASH_ESCAPES, which the client-side escaping of mysql2 relies on.
// READ COMMITTED: no gap locks, so one node's inserts and another's deletes in
// the same index range do not deadlock (several nodes write one queue table).
export const SESSION_SQL = [
  `SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'`,
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
];
/** Attempts of a transaction InnoDB picks as a deadlock victim, with a jittered pause between. */
export const DEADLOCK_ATTEMPTS = 8;
export const ER_LOCK_DEADLOCK = 1213;
/** Rows per statement for key lists (IN, OR), far below any server limit. */
export const KEYS_PER_STATEMENT = 500;

export const channelHash = (channel: string): Buffer => createHash('sha256').update(channel, 'utf8').digest();
export const notOpen = () => new Error('MysqlStorage is not open');
export const settle = (): void => undefined;

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A lost connection, a timeout or a failed handshake: the connection is no longer usable. */
export function brokeConnection(error: unknown): boolean {
  const e = error as { fatal?: boolean; code?: string };
  return e?.fatal === true || e?.code === 'PROTOCOL_SEQUENCE_TIMEOUT';
}
