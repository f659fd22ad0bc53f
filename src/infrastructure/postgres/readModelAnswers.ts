import { LRUCache } from 'lru-cache';
import type { QueryResult, SqlQuery } from '../../projections/consumer.js';

/** How many answers one read model keeps in a process, the least recently used given up first. */
const ANSWERS_KEPT = 1_000;

interface KeptAnswer {
  stamp: number;
  result: QueryResult<object>;
}

/**
 * Statements on a read model, their answers kept while its projector's checkpoint stands still. A
 * shop is read far more often than it is written, and until the projector commits again its
 * tables answer the same: an answer is kept under the stamp its checkpoint had before the
 * statement ran (`CheckpointSignals.stamp`) and given again while that stamp stays. Without a
 * stamp (nothing heard of the projector yet, or not hearing) every statement goes to PostgreSQL.
 * Callers read what is answered; they never change it, as it is shared.
 */
export function keptAnswers(query: SqlQuery, stamp: () => number | undefined): SqlQuery {
  const kept = new LRUCache<string, KeptAnswer>({ max: ANSWERS_KEPT });
  return async <Row extends object>(text: string, values: readonly unknown[] = []) => {
    const stampBefore = stamp();
    if (stampBefore === undefined) return query<Row>(text, values);
    const key = `${text}\u0000${JSON.stringify(values)}`;
    const answer = kept.get(key);
    if (answer?.stamp === stampBefore) return answer.result as QueryResult<Row>;
    const result = await query<Row>(text, values);
    kept.set(key, { stamp: stampBefore, result });
    return result;
  };
}
