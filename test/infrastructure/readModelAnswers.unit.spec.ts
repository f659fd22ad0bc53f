import { expect } from 'chai';
import type { QueryResult } from '../../src/projections/consumer.js';
import { keptAnswers } from '../../src/infrastructure/postgres/readModelAnswers.js';

/** A read model whose every statement answers a fresh result and is counted. */
function countingReadModel() {
  const asked: string[] = [];
  let answered = 0;
  return {
    asked,
    query: async <Row extends object>(text: string, values: readonly unknown[] = []) => {
      asked.push(`${text} ${JSON.stringify(values)}`);
      answered += 1;
      return { rows: [{ answer: answered }], rowCount: 1 } as unknown as QueryResult<Row>;
    },
  };
}

describe('Answers kept from a read model', () => {
  it('answers a statement again from memory while the stamp stays, and asks again once it moves', async () => {
    const readModel = countingReadModel();
    let stamp = 1;
    const query = keptAnswers(readModel.query, () => stamp);

    const first = await query('SELECT a FROM t WHERE id = $1', ['x']);
    expect(await query('SELECT a FROM t WHERE id = $1', ['x'])).to.equal(first);
    expect(readModel.asked).to.have.length(1);

    stamp = 2;
    const afterMove = await query('SELECT a FROM t WHERE id = $1', ['x']);
    expect(afterMove.rows).to.deep.equal([{ answer: 2 }]);
    expect(readModel.asked).to.have.length(2);
  });

  it('keeps the answers of different values or statements apart', async () => {
    const readModel = countingReadModel();
    const query = keptAnswers(readModel.query, () => 7);

    await query('SELECT a FROM t WHERE id = $1', ['x']);
    await query('SELECT a FROM t WHERE id = $1', ['y']);
    await query('SELECT b FROM t WHERE id = $1', ['x']);
    // One string that looks like the two values joined is still another key.
    await query('SELECT a FROM t WHERE id = $1 AND k = $2', ['x', 'y']);
    await query('SELECT a FROM t WHERE id = $1 AND k = $2', ['x,y']);
    expect(readModel.asked).to.have.length(5);
  });

  it('keeps nothing while there is no stamp: nothing heard of the projector, or not hearing', async () => {
    const readModel = countingReadModel();
    const query = keptAnswers(readModel.query, () => undefined);

    await query('SELECT 1');
    await query('SELECT 1');
    expect(readModel.asked).to.have.length(2);
  });

  it('keeps an answer under the stamp taken before its statement ran, never a later one', async () => {
    const readModel = countingReadModel();
    let stamp = 1;
    // The checkpoint moves while the statement runs: the answer may be from before the move.
    const query = keptAnswers(
      async <Row extends object>(text: string, values?: readonly unknown[]) => {
        const result = await readModel.query<Row>(text, values);
        stamp = 2;
        return result;
      },
      () => stamp,
    );

    await query('SELECT a FROM t');
    await query('SELECT a FROM t');
    expect(readModel.asked).to.have.length(2);
  });

  it('gives up the least recently used answer past a thousand kept', async () => {
    const readModel = countingReadModel();
    const query = keptAnswers(readModel.query, () => 1);

    for (let id = 0; id < 1000; id += 1) await query('SELECT a FROM t WHERE id = $1', [id]);
    await query('SELECT a FROM t WHERE id = $1', [0]);
    await query('SELECT a FROM t WHERE id = $1', [1000]);
    expect(readModel.asked).to.have.length(1001);

    // 0 was used again, so 1 was the least recently used and went.
    await query('SELECT a FROM t WHERE id = $1', [0]);
    expect(readModel.asked).to.have.length(1001);
    await query('SELECT a FROM t WHERE id = $1', [1]);
    expect(readModel.asked).to.have.length(1002);
  });
});
