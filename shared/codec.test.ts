import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, encodePush } from './codec';
import type { Packet } from './packets';

/** Wire text → packet, for every one of the 15 types (protocol 3). */
const fixtures: Array<[string, Packet]> = [
  ['{"auth":{"dt":{"client_name":"webclient"}}}', { type: 'auth', dt: { client_name: 'webclient' } }],
  ['{"authAck":{"st":1,"at":"tok","cl":"webclient"}}', { type: 'authAck', st: 1, at: 'tok', cl: 'webclient' }],
  ['{"authAck":{"st":10,"mg":"client_name missing"}}', { type: 'authAck', st: 10, mg: 'client_name missing' }],
  ['{"conn":{"at":"tok","cl":"webclient"}}', { type: 'conn', at: 'tok', cl: 'webclient' }],
  ['{"connAck":{"st":1,"ts":15}}', { type: 'connAck', st: 1, ts: 15 }],
  ['{"hb":{}}', { type: 'hb' }],
  ['{"hbAck":{}}', { type: 'hbAck' }],
  ['{"sub":{"cn":"mychannel","pr":1}}', { type: 'sub', cn: 'mychannel', pr: 1 }],
  ['{"subAck":{"st":1,"cn":"mychannel"}}', { type: 'subAck', st: 1, cn: 'mychannel' }],
  ['{"unsub":{"cn":"mychannel"}}', { type: 'unsub', cn: 'mychannel' }],
  ['{"unsubAck":{"st":1,"cn":"mychannel"}}', { type: 'unsubAck', st: 1, cn: 'mychannel' }],
  ['{"pub":{"cn":"mychannel","dt":"hello","q":1,"id":"7","rt":1}}', { type: 'pub', cn: 'mychannel', dt: 'hello', q: 1, id: '7', rt: 1 }],
  ['{"pubAck":{"st":1,"id":"7"}}', { type: 'pubAck', st: 1, id: '7' }],
  ['{"pubAck":{"st":1,"id":"8","dt":{"channels":{"#webclient":"persistent"}}}}', { type: 'pubAck', st: 1, id: '8', dt: { channels: { '#webclient': 'persistent' } } }],
  ['{"push":{"cn":"mychannel","dt":"hello","cl":"pyclient1","q":1,"id":"a81f"}}', { type: 'push', cn: 'mychannel', dt: 'hello', cl: 'pyclient1', q: 1, id: 'a81f' }],
  ['{"push":{"cn":"mychannel","dt":"hello","cl":"","rt":1}}', { type: 'push', cn: 'mychannel', dt: 'hello', cl: '', rt: 1 }],
  ['{"pushAck":{"id":"a81f","st":1}}', { type: 'pushAck', id: 'a81f', st: 1 }],
  ['{"disconn":{}}', { type: 'disconn' }],
];

for (const [text, packet] of fixtures) {
  test(`decode ${text}`, () => assert.deepEqual(decode(text), { ok: true, packet }));
  test(`encode ${packet.type} → ${text}`, () => assert.equal(encode(packet), text));
  test(`round trip ${text}`, () => assert.deepEqual(decode(encode(packet)), { ok: true, packet }));
}

/** Tolerated variants (protocol 3.11): text → the packet it means. */
const tolerated: Array<[string, Packet]> = [
  ['{"sub":{"cn":"a","pr":true}}', { type: 'sub', cn: 'a', pr: 1 }],
  ['{"sub":{"cn":"a","pr":"0"}}', { type: 'sub', cn: 'a', pr: 0 }],
  ['{"sub":{"cn":"a"}}', { type: 'sub', cn: 'a', pr: 0 }],
  ['{"sub":{"cn":"  spaced  ","pr":1}}', { type: 'sub', cn: 'spaced', pr: 1 }],
  ['{"pub":{"cn":"a","dt":1,"q":"1","id":5,"rt":false}}', { type: 'pub', cn: 'a', dt: 1, q: 1, id: 5, rt: 0 }],
  ['{"pub":{"cn":"$mySubscriptions","dt":{},"id":"8"}}', { type: 'pub', cn: '$mySubscriptions', dt: {}, q: 0, id: '8', rt: 0 }],
  ['{"pub":{"cn":"a","dt":null,"rt":1}}', { type: 'pub', cn: 'a', dt: null, q: 0, rt: 1 }],
  ['{"pushAck":{"id":"x"}}', { type: 'pushAck', id: 'x', st: 1 }],
  ['{"hb":{"extra":"ignored"}}', { type: 'hb' }],
];
for (const [text, packet] of tolerated) {
  test(`tolerates ${text}`, () => assert.deepEqual(decode(text), { ok: true, packet }));
}

/** One line per error case: text → status, and what the error keeps for the ack. */
const errors: Array<[string, number, Partial<{ type: string; cn: string; id: string | number }>]> = [
  ['not json', 10, {}],
  ['[]', 10, {}],
  ['"text"', 10, {}],
  ['null', 10, {}],
  ['{}', 10, {}],
  ['{"hb":{},"disconn":{}}', 10, {}],
  ['{"nope":{}}', 10, {}],
  ['{"hb":[]}', 10, { type: 'hb' }],
  ['{"sub":"x"}', 10, { type: 'sub' }],
  ['{"auth":{}}', 10, { type: 'auth' }],
  ['{"conn":{"at":"t"}}', 10, { type: 'conn' }],
  ['{"conn":{"at":"t","cl":""}}', 10, { type: 'conn' }],
  ['{"conn":{"at":1,"cl":"c"}}', 10, { type: 'conn' }],
  ['{"sub":{"pr":1}}', 10, { type: 'sub' }],
  ['{"sub":{"cn":"a","pr":2}}', 10, { type: 'sub', cn: 'a' }],
  ['{"sub":{"cn":"   "}}', 11, { type: 'sub', cn: '   ' }],
  ['{"sub":{"cn":"$"}}', 11, { type: 'sub', cn: '$' }],
  ['{"unsub":{"cn":"#"}}', 11, { type: 'unsub', cn: '#' }],
  ['{"unsub":{"cn":5}}', 10, { type: 'unsub' }],
  ['{"pub":{"cn":"a"}}', 10, { type: 'pub', cn: 'a' }],
  ['{"pub":{"cn":"a","dt":1,"q":2,"id":"9"}}', 10, { type: 'pub', cn: 'a', id: '9' }],
  ['{"pub":{"cn":"a","dt":1,"q":true,"id":"9"}}', 10, { type: 'pub', cn: 'a', id: '9' }],
  ['{"pub":{"cn":"a","dt":1,"rt":"yes"}}', 10, { type: 'pub', cn: 'a' }],
  ['{"pub":{"cn":"a","dt":1,"q":1}}', 10, { type: 'pub', cn: 'a' }],
  ['{"pub":{"cn":"$ctl","dt":1}}', 10, { type: 'pub', cn: '$ctl' }],
  ['{"pub":{"cn":"a","dt":1,"id":{}}}', 10, { type: 'pub' }],
  ['{"pub":{"cn":"","dt":1,"id":"3"}}', 11, { type: 'pub', cn: '', id: '3' }],
  ['{"pub":{"cn":"a","dt":1,"id":1e400}}', 10, { type: 'pub' }],
  ['{"pushAck":{}}', 10, { type: 'pushAck' }],
  ['{"pub":{"cn":"a","dt":{"n":[1e999]},"id":"big"}}', 10, { type: 'pub', cn: 'a', id: 'big' }],
  ['{"pushAck":{"id":"x","st":"1"}}', 10, { type: 'pushAck' }],
  [`{"pub":{"cn":"a","id":"d","dt":${'['.repeat(100)}${']'.repeat(100)}}}`, 10, { type: 'pub', cn: 'a', id: 'd' }],
  [`{"auth":{"dt":${'{"a":'.repeat(80)}1${'}'.repeat(80)}}}`, 10, { type: 'auth' }],
];
for (const [text, status, keeps] of errors) {
  test(`error ${status} for ${text.slice(0, 60)}`, () => {
    const result = decode(text);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.status, status);
    assert.ok(result.message.length > 0);
    for (const [key, value] of Object.entries(keeps)) assert.equal(result[key as keyof typeof result], value, key);
  });
}

test('encodePush writes the three push shapes that decode back', () => {
  assert.deepEqual(decode(encodePush('c', '{"x":1}', 'me', '')), { ok: true, packet: { type: 'push', cn: 'c', dt: { x: 1 }, cl: 'me' } });
  assert.deepEqual(decode(encodePush('c', '2', '', 'retained')), { ok: true, packet: { type: 'push', cn: 'c', dt: 2, cl: '', rt: 1 } });
  assert.deepEqual(decode(encodePush('c', 'null', 'me', { id: 'k' })), { ok: true, packet: { type: 'push', cn: 'c', dt: null, cl: 'me', q: 1, id: 'k' } });
});
