/** Specs of the log line wording: pushes, answers, QoS 0 pubs as sent, the authAck, and requests that got no answer. */
import { JmqtError } from '../../../../shared/client';
import { answerEntry, authAckEntry, dataText, failureEntry, pushEntry, sentEntry } from './log-line';

describe('log lines', () => {
  it("words a push as the original page did, sender '' as server", () => {
    const entry = pushEntry({ channel: 'update', sender: '', data: { offline: 'bob' }, qos: 0, retained: false });
    expect(entry.text).toBe(`Message on channel 'update' from 'server' : {"offline":"bob"} (QOS 0, RETAIN 0)`);
    expect(entry.kind).toBe('message');
    expect(entry.channel).toBe('update');
    expect(entry.data as unknown).toEqual({ offline: 'bob' });
  });

  it('shows strings as they are, and QoS 1 and retained flags', () => {
    expect(pushEntry({ channel: 'c', sender: 'alice', data: 'hello', qos: 1, retained: false, id: 'x' }).text).toBe(
      "Message on channel 'c' from 'alice' : hello (QOS 1, RETAIN 0)",
    );
    expect(pushEntry({ channel: 'c', sender: 'alice', data: 'hello', qos: 0, retained: true }).text).toBe(
      "Message on channel 'c' from 'alice' : hello (QOS 0, RETAIN 1)",
    );
  });

  it('renders any JSON value', () => {
    expect(dataText(null)).toBe('null');
    expect(dataText(42)).toBe('42');
    expect(dataText([1, 'a'])).toBe('[1,"a"]');
    expect(dataText('"quoted"')).toBe('"quoted"');
  });

  it('words answers: OK and FAILED with the status name', () => {
    expect(answerEntry('Subscribe to', 'news', 1).text).toBe('Subscribe to "news" OK.');
    expect(answerEntry('Unsubscribe from', 'news', 1).text).toBe('Unsubscribe from "news" OK.');
    expect(answerEntry('Publish to', 'news', 1).text).toBe('Publish to "news" OK.');
    const refused = answerEntry('Subscribe to', 'update', 7);
    expect(refused.text).toBe('Subscribe to "update" FAILED. Status NOT_ALLOWED (7).');
    expect(refused.kind).toBe('error');
    expect(answerEntry('Publish to', '#bob', 8).text).toBe('Publish to "#bob" FAILED. Status CLIENT_OFFLINE (8).');
  });

  it("appends a control channel's response", () => {
    const entry = answerEntry('Publish to', '$mySubscriptions', 1, { channels: { a: 'temp' } });
    expect(entry.text).toBe('Publish to "$mySubscriptions" OK. Response: {"channels":{"a":"temp"}}');
    expect(entry.data as unknown).toEqual({ channels: { a: 'temp' } });
  });

  it('words a request that got no answer with the SDK error status', () => {
    const entry = failureEntry('Publish to', 'news', JmqtError.network('not connected'));
    expect(entry.text).toBe('Publish to "news" FAILED. Status NETWORK_ERROR (9): NETWORK_ERROR (network): not connected');
    expect(failureEntry('Publish to', 'news', JmqtError.timeout('pubAck:1', 10)).text).toContain('Status UNKNOWN (-1)');
  });

  it('words a QoS 0 pub as sent, never OK', () => {
    expect(sentEntry('news')).toEqual({ kind: 'info', channel: 'news', text: 'Publish to "news" sent (QoS 0).' });
  });

  it('shows the whole authAck: status by name and number, client id, token, message; the wire packet as data', () => {
    const ok = authAckEntry({ status: 1, clientId: 'alice', token: 'tok' });
    expect(ok.text).toBe("authAck: Status OK (1), Client ID 'alice', Token 'tok'");
    expect(ok.kind).toBe('ok');
    expect(ok.data as unknown).toEqual({ authAck: { st: 1, at: 'tok', cl: 'alice' } });
    const refused = authAckEntry({ status: 7, message: 'wrong password' });
    expect(refused.text).toBe("authAck: Status NOT_ALLOWED (7), Message 'wrong password'");
    expect(refused.kind).toBe('error');
    expect(authAckEntry({ status: 42, message: 'custom' }).text).toBe("authAck: Status STATUS_42 (42), Message 'custom'");
  });
});
