import http, { type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Router } from 'express';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { createApp } from '../../src/api/app.js';
import { answerCommand, ifMatch, validBody } from '../../src/api/http.js';
import { silentLogger } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

class EchoDto {
  @IsString()
  @Length(1, 20)
  name!: string;

  @IsInt()
  @Min(1)
  @Max(50)
  quantity!: number;
}

class StoreDown extends Error {}

/** Where the data GETs read has got to; tests move it. */
let readPosition = 0;
let positionReads = 0;
/** A source that tells waiting GETs when it moves, as projectors' checkpoints do. */
let announcedPosition = 0;
let announcedReads = 0;
const announcementWaiters: (() => void)[] = [];
const announce = (position: number): void => {
  announcedPosition = position;
  for (const wake of announcementWaiters.splice(0)) wake();
};

/** An app with one command route, to test what every route inherits. */
function testRoutes(): Router {
  const router = Router();
  router.post('/echo', async (request, response) => {
    const body = await validBody(EchoDto, request.body);
    answerCommand(response, { revision: ifMatch(request) ?? 0, position: 42 }, 200, {
      ...body,
      requestId: request.requestId,
    });
  });
  router.get('/boom', () => {
    throw new Error('SELECT secret FROM internals at /srv/app/src/db.ts:12');
  });
  router.get('/store-down', () => {
    throw new StoreDown('connect ECONNREFUSED 10.0.0.7:5432');
  });
  router.get('/api/v1/position-seen', (_request, response) => {
    response.json({ readPosition });
  });
  router.get('/api/v1/announced-position-seen', (_request, response) => {
    response.json({ announcedPosition });
  });
  router.get('/things/:thingId', (request, response) => {
    response.setHeader('ETag', '"3"');
    response.json({ thingId: request.params.thingId });
  });
  return router;
}

describe('HTTP conventions every route inherits', () => {
  let server: Server;
  let base: string;

  before(async () => {
    const app = createApp({
      logger: silentLogger,
      readinessChecks: [],
      metrics: { contentType: 'text/plain', render: () => Promise.resolve('') },
      routers: [testRoutes()],
      isDependencyDown: (error) => error instanceof StoreDown,
      consistency: {
        sourceOf: (path) =>
          path === '/api/v1/announced-position-seen'
            ? {
                position: () => {
                  announcedReads += 1;
                  return Promise.resolve(announcedPosition);
                },
                untilReached: () => new Promise<void>((wake) => announcementWaiters.push(wake)),
              }
            : {
                position: () => {
                  positionReads += 1;
                  return Promise.resolve(readPosition);
                },
              },
        maxWaitMs: 300,
      },
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.close();
  });

  const post = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}/echo`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });

  async function expectProblem(response: Response, status: number): Promise<Record<string, unknown>> {
    expect(response.status).to.equal(status);
    expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).to.include({ status });
    expect(problem).to.have.keys([
      'type',
      'title',
      'status',
      'detail',
      'instance',
      ...(problem.errors ? ['errors'] : []),
    ]);
    return problem;
  }

  describe('with a valid command', () => {
    it('answers the body, ETag, X-Event-Position and an echoed X-Request-Id', async () => {
      const response = await post(JSON.stringify({ name: 'pen', quantity: 2 }), {
        'x-request-id': 'req-123',
        'if-match': '"7"',
      });
      expect(response.status).to.equal(200);
      expect(response.headers.get('etag')).to.equal('"7"');
      expect(response.headers.get('x-event-position')).to.equal('42');
      expect(response.headers.get('x-request-id')).to.equal('req-123');
      expect(await response.json()).to.deep.equal({ name: 'pen', quantity: 2, requestId: 'req-123' });
    });

    it('generates a request id when the caller sends none or a malformed one', async () => {
      const response = await post(JSON.stringify({ name: 'pen', quantity: 2 }), {
        'x-request-id': 'bad id!',
      });
      expect(response.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });
  });

  describe('with bad input', () => {
    it('answers malformed JSON with 400', async () => {
      const problem = await expectProblem(await post('{"name": "pen",'), 400);
      expect(problem.detail).to.equal('the request body is not valid JSON');
    });

    it('answers a body that is not JSON with 415', async () => {
      await expectProblem(
        await post('name=pen', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
      );
    });

    it('answers a 200 kB body with 413', async () => {
      await expectProblem(await post(JSON.stringify({ name: 'x'.repeat(200_000), quantity: 1 })), 413);
    });

    it('refuses unknown fields instead of dropping them, naming each', async () => {
      const problem = await expectProblem(
        await post(JSON.stringify({ name: 'pen', quantity: 1, admin: true })),
        400,
      );
      expect(problem.errors).to.deep.equal([{ field: 'admin', message: 'property admin should not exist' }]);
    });

    it('names missing and out-of-range fields', async () => {
      const problem = await expectProblem(await post(JSON.stringify({ quantity: 51 })), 400);
      expect((problem.errors as { field: string }[]).map((error) => error.field)).to.have.members([
        'name',
        'quantity',
      ]);
    });

    it('answers JSON in a charset other than UTF-8 with 415', async () => {
      const problem = await expectProblem(
        await post(JSON.stringify({ name: 'pen', quantity: 1 }), {
          'content-type': 'application/json; charset=latin1',
        }),
        415,
      );
      expect(problem.detail).to.match(/charset/);
    });

    it('answers a compressed body it cannot read with 415', async () => {
      await expectProblem(
        await post(JSON.stringify({ name: 'pen', quantity: 1 }), { 'content-encoding': 'br-x' }),
        415,
      );
    });

    it('answers a path that is not valid percent-encoding with 400', async () => {
      await expectProblem(await fetch(`${base}/things/%E0%A4%A`), 400);
    });

    it('refuses a body that is a JSON array', async () => {
      await expectProblem(await post('[1, 2]'), 400);
    });

    it('refuses an If-Match that is not a quoted revision', async () => {
      await expectProblem(
        await post(JSON.stringify({ name: 'pen', quantity: 1 }), { 'if-match': 'W/"x"' }),
        400,
      );
    });
  });

  describe('when something breaks inside', () => {
    it('answers 500 without the internal message, SQL or paths', async () => {
      const response = await fetch(`${base}/boom`);
      const problem = await expectProblem(response, 500);
      expect(JSON.stringify(problem)).not.to.match(/SELECT|internals|\/srv\//);
    });
  });

  describe('when a dependency is down', () => {
    it('answers 503 with Retry-After, without the driver’s message', async () => {
      const response = await fetch(`${base}/store-down`);
      const problem = await expectProblem(response, 503);
      expect(response.headers.get('retry-after')).to.equal('5');
      expect(JSON.stringify(problem)).not.to.match(/ECONNREFUSED|10\.0\.0\.7/);
    });
  });

  describe('on a conditional GET', () => {
    it('answers the representation, never 304: an ETag is a revision for If-Match, not a cache validator', async () => {
      // node:http, not fetch: fetch marks a request with If-None-Match no-cache, which hides a 304.
      const request = http.get(`${base}/things/t-1`, { headers: { 'if-none-match': '"3"' } });
      const [response] = (await once(request, 'response')) as [http.IncomingMessage];
      let body = '';
      for await (const chunk of response) body += String(chunk);
      expect(response.statusCode).to.equal(200);
      expect(JSON.parse(body)).to.deep.equal({ thingId: 't-1' });
    });
  });

  describe('with X-Min-Position', () => {
    const getAt = (minPosition?: string): Promise<Response> =>
      fetch(`${base}/api/v1/position-seen`, {
        headers: minPosition === undefined ? {} : { 'x-min-position': minPosition },
      });

    it('answers every API GET with the position its data has reached', async () => {
      readPosition = 1200;
      const response = await getAt();
      expect(response.headers.get('x-projection-position')).to.equal('1200');
    });

    it('waits until the data reaches the position asked for, then answers', async () => {
      readPosition = 1200;
      positionReads = 0;
      const answer = getAt('1500');
      await waitFor(
        () => positionReads >= 3,
        5000,
        () => `${positionReads} reads of the position`,
      );
      readPosition = 1600;
      const response = await answer;
      expect(response.headers.get('x-projection-position')).to.equal('1600');
      expect(await response.json()).to.deep.equal({ readPosition: 1600 });
    });

    it('sleeps until a source that tells when it moves says so, reading its position only then', async () => {
      announce(1200);
      announcedReads = 0;
      const answer = fetch(`${base}/api/v1/announced-position-seen`, {
        headers: { 'x-min-position': '1500' },
      });
      await waitFor(
        () => announcementWaiters.length === 1,
        5000,
        () => 'the GET is not waiting',
      );
      announce(1300);
      await waitFor(
        () => announcementWaiters.length === 1 && announcedReads === 2,
        5000,
        () => `${announcedReads} reads`,
      );
      announce(1600);
      const response = await answer;
      expect(response.headers.get('x-projection-position')).to.equal('1600');
      expect(announcedReads, 'one read at first, one after each announcement').to.equal(3);
    });

    it('answers with the lower position once the wait runs out', async () => {
      readPosition = 1200;
      const response = await getAt('999999');
      expect(response.status).to.equal(200);
      expect(response.headers.get('x-projection-position')).to.equal('1200');
    });

    it('refuses a position that is not a whole number', async () => {
      for (const bad of ['abc', '-1', '1.5', '1e3', '99999999999999999']) {
        await expectProblem(await getAt(bad), 400);
      }
    });
  });

  describe('on an unknown path', () => {
    it('answers 404 problem details', async () => {
      await expectProblem(await fetch(`${base}/nothing-here`), 404);
    });
  });
});
