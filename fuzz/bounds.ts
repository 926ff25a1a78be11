/**
 * The pass/fail bounds of a fuzz run, and the timings they rest on. A run
 * fails when the broker exits, when the good client loses an acknowledged
 * QoS 1 message or is disconnected, or when one of these bounds is crossed.
 */

/**
 * Longest heartbeat round trip of the good client, ms. The broker answers hb
 * synchronously; 2 s is far above any queueing under load, yet well below the
 * 15 s idle timeout, so crossing it means the event loop was blocked by an
 * attacker (a broker that stalls for 2 s stalls every client).
 */
export const HB_ROUND_TRIP_LIMIT_MS = 2000;

/**
 * Longest wait for a pubAck of the good client, ms. QoS 1 acks wait for the
 * SQLite commit (synchronous = full); 10 s is the SDK's own request timeout.
 */
export const PUB_ACK_TIMEOUT_MS = 10_000;

/**
 * How far the broker's RSS may rise above its baseline (taken after start-up,
 * before the attack), bytes. Every buffer an attacker can fill is capped
 * (MAX_PACKET_BYTES 1 MiB per frame, OUTBOUND_BUFFER_BYTES 8 MiB per
 * connection, connection limits per address), so the sum of what the fuzzer
 * can make the broker hold legitimately stays well under 300 MB.
 */
export const RSS_GROWTH_LIMIT_BYTES = 300 * 1024 * 1024;

/**
 * How long the broker gets, once the attack stops, to close every socket the
 * attackers left open (slowloris sockets that never send FIN, floods that
 * never sent a byte), s. The broker's connect deadline (CONNECT_TIMEOUT_SECONDS)
 * is 10 s, its sweep runs once a second, and a WebSocket whose peer never
 * answers the close frame is cut 2 s later: 13 s for the last socket opened,
 * so 15 s leaves 2 s of margin.
 */
export const FD_REAP_SECONDS = 15;

/**
 * Open fds above the baseline that still count as "back to the baseline":
 * the good client's sockets are in the baseline already; this leaves room for
 * SQLite's WAL and shm files, the log file and an HTTP keep-alive socket or two.
 */
export const FD_SLACK = 16;

/** An /api/health or /api/stats request unanswered this long counts as not answering, ms. */
export const HTTP_TIMEOUT_MS = 5000;

/**
 * After the last publish, how long the good client waits for the pushes of
 * every acknowledged QoS 1 message before it counts the missing ones as lost, ms.
 */
export const DELIVERY_GRACE_MS = 5000;

/** How often the progress lines are printed, ms. */
export const REPORT_EVERY_MS = 5000;

/** How often RSS, fds, /api/stats and /api/health are sampled, ms. */
export const SAMPLE_EVERY_MS = 1000;
