import { setImmediate as nextTurn } from 'node:timers/promises';
import { expect } from 'chai';
import { ChangeSignal, type Interest } from '../../src/eventstore/changeSignal.js';

/** A wait that can be asked, a turn later, whether it has ended; it ends by itself only after a minute. */
function waiting(signal: ChangeSignal, sinceVersion: number, interest: Interest) {
  const stop = new AbortController();
  let woken = false;
  const wait = signal.waitForChange(sinceVersion, interest, 60_000, stop.signal).then(() => {
    woken = true;
  });
  return {
    woken: async (): Promise<boolean> => {
      await nextTurn();
      return woken;
    },
    end: async (): Promise<void> => {
      stop.abort();
      await wait;
    },
  };
}

describe('The change signal', () => {
  it('wakes a subscriber for a change that reaches its position in its category', async () => {
    const signal = new ChangeSignal();
    const wait = waiting(signal, signal.version, { fromPosition: 10, category: 'order' });
    signal.notify({ lastPosition: 12, categories: ['cart', 'order'] });
    expect(await wait.woken()).to.equal(true);
  });

  it('lets it sleep through changes to events it has read, and to other categories', async () => {
    const signal = new ChangeSignal();
    const wait = waiting(signal, signal.version, { fromPosition: 10, category: 'order' });
    signal.notify({ lastPosition: 9, categories: ['order'] });
    signal.notify({ lastPosition: 20, categories: ['cart'] });
    expect(await wait.woken()).to.equal(false);
    signal.notify({ lastPosition: 21, categories: ['order'] });
    expect(await wait.woken()).to.equal(true);
  });

  it('wakes a subscriber of every category for a change of any', async () => {
    const signal = new ChangeSignal();
    const wait = waiting(signal, signal.version, { fromPosition: 10 });
    signal.notify({ lastPosition: 10, categories: ['payment'] });
    expect(await wait.woken()).to.equal(true);
  });

  it('wakes everyone for a change told without details', async () => {
    const signal = new ChangeSignal();
    const wait = waiting(signal, signal.version, { fromPosition: 10, category: 'order' });
    signal.notify();
    expect(await wait.woken()).to.equal(true);
  });

  it('answers at once for a change that concerns the subscriber and came during its read', async () => {
    const signal = new ChangeSignal();
    const noted = signal.version;
    signal.notify({ lastPosition: 30, categories: ['order'] });
    const wait = waiting(signal, noted, { fromPosition: 25, category: 'order' });
    expect(await wait.woken()).to.equal(true);
  });

  it('waits on when what came during the read does not concern the subscriber', async () => {
    const signal = new ChangeSignal();
    const noted = signal.version;
    signal.notify({ lastPosition: 30, categories: ['cart'] });
    const wait = waiting(signal, noted, { fromPosition: 25, category: 'order' });
    expect(await wait.woken()).to.equal(false);
    await wait.end();
  });

  it('answers at once when more came during the read than it keeps, as any of them may concern it', async () => {
    const signal = new ChangeSignal();
    const noted = signal.version;
    for (let position = 1; position <= 1000; position += 1) {
      signal.notify({ lastPosition: position, categories: ['cart'] });
    }
    const wait = waiting(signal, noted, { fromPosition: 2000, category: 'order' });
    expect(await wait.woken()).to.equal(true);
  });
});
