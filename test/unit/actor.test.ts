import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnActor } from '../../src/core/actor.ts';
import type { ActorStats, ConnActorLike, ConnOwner } from '../../src/core/actor.types.ts';
import { ConnEvent } from '../../src/core/actor.types.ts';
import { clientTransport } from '../helpers/fake-net.ts';

const stats = (): ActorStats => ({ staleEvents: 0, staleCommands: 0, opened: 0, closed: 0 });

/** An owner that, like a session endpoint, keeps the epoch it was given and drops older events. */
class Owner implements ConnOwner {
  epoch = 0;
  seen: ConnEvent[] = [];
  dropped = 0;
  faults: unknown[] = [];
  onConnData(): void {}
  onFault(err: unknown): void {
    this.faults.push(err);
  }
  onConnEvent(_c: ConnActorLike, epoch: number, ev: ConnEvent): void {
    if (epoch !== this.epoch) {
      this.dropped++;
      return;
    }
    this.seen.push(ev);
  }
}

test('a late event from an old epoch reaching a reused connection is dropped', () => {
  const st = stats();
  const t = clientTransport();
  const conn = new ConnActor('server', t, st, true);
  const a = new Owner();
  a.epoch = conn.attach(a);
  const oldEpoch = a.epoch;
  // A gives the connection up (to the idle pool, say), and B reuses it
  conn.detach(a.epoch);
  const pool = new Owner();
  pool.epoch = conn.attach(pool);
  conn.detach(pool.epoch);
  const b = new Owner();
  b.epoch = conn.attach(b);
  // the error A's failed attempt posted arrives now
  conn.post(oldEpoch, ConnEvent.ERROR, { code: 'ECONNREFUSED', message: 'late' });
  assert.deepEqual(b.seen, []);
  assert.equal(b.dropped, 1);
  assert.equal(t.destroyed, false, 'the late event must not close the reused socket');
  // and A, holding its old epoch, can no longer act on the socket
  assert.equal(conn.write(oldEpoch, Buffer.from('x')), true);
  conn.pause(oldEpoch);
  conn.close(oldEpoch);
  assert.equal(t.writes.length, 0);
  assert.equal(t.paused, false);
  assert.equal(t.destroyed, false);
  assert.equal(st.staleCommands, 3);
  // the current owner still can
  conn.write(b.epoch, Buffer.from('ok'));
  assert.equal(t.written, 'ok');
  conn.post(b.epoch, ConnEvent.END);
  assert.deepEqual(b.seen, [ConnEvent.END]);
});

test('each attach gives a new epoch; detach invalidates it', () => {
  const conn = new ConnActor('server', clientTransport(), stats(), true);
  const o = new Owner();
  const e1 = conn.attach(o);
  assert.equal(conn.detach(e1), true);
  assert.equal(conn.detach(e1), false);
  const e2 = conn.attach(o);
  assert.ok(e2 > e1);
});

test('data arriving on an unowned connection closes it (nobody may read it)', () => {
  const t = clientTransport();
  const conn = new ConnActor('server', t, stats(), true);
  const o = new Owner();
  conn.detach(conn.attach(o));
  t.data('unexpected');
  assert.equal(t.destroyed, true);
  assert.equal(conn.closed, true);
});

test('connection state machine refuses illegal transitions', () => {
  const t = clientTransport();
  const conn = new ConnActor('server', t, stats(), false);
  const o = new Owner();
  o.epoch = conn.attach(o);
  t.connectOk();
  assert.equal(conn.state, 'READY');
  t.connectOk(); // a second connect event is ignored, not a transition
  assert.equal(conn.state, 'READY');
  conn.close(o.epoch);
  assert.equal(conn.state, 'CLOSED');
});

test("an exception in the owner's handler is handed back to the owner, not thrown at the socket", () => {
  const t = clientTransport();
  const conn = new ConnActor('server', t, stats(), true);
  const o = new Owner();
  o.epoch = conn.attach(o);
  o.onConnEvent = () => {
    throw new Error('bug in a handler');
  };
  assert.doesNotThrow(() => t.peerEnd());
  assert.equal(o.faults.length, 1);
  assert.match(String(o.faults[0]), /bug in a handler/);
});
