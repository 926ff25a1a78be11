/** How `jmqt sub` prints a push: `channel sender data`, or one JSON object per line. */
import type { PushEvent } from '../../shared/client/index';

/** Characters that would break the one-line-per-push promise or act on a terminal. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * `channel sender data`: the sender `-` when the server published; string
 * data as it is, unless it holds a line break or another control character,
 * then JSON-quoted like any other value. `--json` keeps the exact types.
 */
export function pushLine(push: PushEvent): string {
  const data = typeof push.data === 'string' && !UNSAFE.test(push.data) ? push.data : JSON.stringify(push.data);
  const sender = push.sender === '' ? '-' : push.sender;
  return `${push.channel} ${sender} ${data}`;
}

export function pushJson(push: PushEvent): string {
  const { channel, sender, data, qos, retained, id } = push;
  return JSON.stringify({ channel, sender, data, qos, retained, ...(id === undefined ? {} : { id }) });
}
