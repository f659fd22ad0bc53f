import { NotLeaderError, UnavailableError, WrongExpectedVersionError } from '@eventstore/db-client';
import { expect } from 'chai';
import { isEventStoreDbUnavailable } from '../../src/infrastructure/eventstore/eventStoreDbEventStore.js';
import { isPostgresUnavailable } from '../../src/infrastructure/postgres/database.js';

const withCode = (code: string, message = 'failed'): Error => Object.assign(new Error(message), { code });

describe('Telling a dependency that is down from a bug', () => {
  describe('for PostgreSQL', () => {
    const down: [string, unknown][] = [
      ['a refused connection', withCode('ECONNREFUSED')],
      ['a reset connection', withCode('ECONNRESET')],
      ['an unknown host', withCode('ENOTFOUND')],
      ['an administrator shutting the server down (57P01)', withCode('57P01')],
      ['a connection failure (08006)', withCode('08006')],
      ['too many connections (53300)', withCode('53300')],
      ['a dropped database (3D000)', withCode('3D000')],
      ['a connection that ended', new Error('Connection terminated unexpectedly')],
      ['no connection within the timeout', new Error('timeout exceeded when trying to connect')],
    ];
    for (const [name, error] of down) {
      it(`counts ${name} as down`, () => {
        expect(isPostgresUnavailable(error)).to.equal(true);
      });
    }

    const bugs: [string, unknown][] = [
      ['a unique violation (23505)', withCode('23505')],
      ['a syntax error (42601)', withCode('42601')],
      ['a missing table (42P01)', withCode('42P01')],
      ['a missing file', withCode('ENOENT')],
      ['a refused permission', withCode('EACCES')],
      ['an aborted request body', withCode('ECONNABORTED')],
      ['an error without a code', new Error('undefined is not a function')],
      ['something that is not an error', 'ECONNREFUSED'],
    ];
    for (const [name, error] of bugs) {
      it(`does not count ${name} as down`, () => {
        expect(isPostgresUnavailable(error)).to.equal(false);
      });
    }
  });

  describe('for EventStoreDB', () => {
    it('counts an unavailable cluster and a lost leader as down', () => {
      expect(isEventStoreDbUnavailable(Object.create(UnavailableError.prototype))).to.equal(true);
      expect(isEventStoreDbUnavailable(Object.create(NotLeaderError.prototype))).to.equal(true);
    });

    it('does not count a wrong expected version or a plain error as down', () => {
      expect(isEventStoreDbUnavailable(Object.create(WrongExpectedVersionError.prototype))).to.equal(false);
      expect(isEventStoreDbUnavailable(new Error('Connection terminated unexpectedly'))).to.equal(false);
    });
  });
});
