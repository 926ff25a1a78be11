/** One publish as the pipeline receives it, from a client's pub or from the server-side API (protocol 7.1, 7.11). */
import type { Json } from '../../shared/packets';

export interface Publication {
  /** Normalised channel name; never a control channel. */
  channel: string;
  data: Json;
  qos: 0 | 1;
  retain: boolean;
  /** Publisher's client id; `''` for the server. */
  sender: string;
  /** The pub's id, for QoS 1 resend dedupe, and to find the message's trace by. */
  pubId?: string | number;
  /** The server id to give the message, when the caller made it (the admin API answers it); else one is made. */
  messageId?: string;
}
