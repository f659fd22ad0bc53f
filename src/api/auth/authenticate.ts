import type { KeyObject } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { expressjwt, type Request as JwtRequest, UnauthorizedError } from 'express-jwt';
import jwt from 'jsonwebtoken';
import { HttpProblem, problemStatusTitle } from '../problemDetails.js';
import { type KeySet, KeySetUnavailable } from './keySet.js';
import { VerifiedTokens } from './verifiedTokens.js';
import { USER_ID, USER_ID_RULE } from '../../domain/shared/userId.js';

export const ROLES = ['customer', 'admin', 'analyst', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the token's `sub` and its realm roles (Keycloak layout). */
export interface Caller {
  userId: string;
  roles: string[];
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `authenticated`; absent on public routes. */
    caller?: Caller;
  }
}

export interface AuthenticationOptions {
  /** The `iss` every token must carry. */
  issuer: string;
  /** The `aud` every token must include. */
  audience: string;
  keys: KeySet;
}

export interface Authentication {
  /** Verifies the bearer token and sets `request.caller`; 401 otherwise. */
  authenticated: RequestHandler[];
  /** `authenticated`, then 403 unless the caller has at least one of `roles`. */
  requireRole: (...roles: Role[]) => RequestHandler[];
}

const REALM = 'Bearer realm="shop"';
const CLOCK_TOLERANCE_SECONDS = 5;
const MAX_KID_LENGTH = 256;

function missingToken(): HttpProblem {
  return new HttpProblem(401, problemStatusTitle(401), 'a bearer token is required', {
    headers: { 'WWW-Authenticate': REALM },
  });
}

/** `description` is ours, never a library's message, and free of quotes and backslashes. */
function invalidToken(description: string): HttpProblem {
  return new HttpProblem(401, problemStatusTitle(401), description, {
    headers: {
      'WWW-Authenticate': `${REALM}, error="invalid_token", error_description="${description}"`,
    },
  });
}

function describeVerificationFailure(error: unknown): string {
  if (error instanceof jwt.TokenExpiredError) return 'the token has expired';
  if (error instanceof jwt.NotBeforeError) return 'the token is not valid yet';
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('jwt issuer invalid')) return 'the token is from another issuer';
  if (message.startsWith('jwt audience invalid')) return 'the token is for another audience';
  if (message === 'invalid algorithm') return 'the token must be signed with RS256';
  if (message === 'invalid signature') return 'the token signature does not verify';
  if (message === 'jwt malformed' || message === 'invalid token') return 'the token is malformed';
  return 'the token is invalid';
}

/** express-jwt's and the key set's errors, as the problem the client gets. */
function toAuthProblem(error: unknown): unknown {
  if (error instanceof HttpProblem) return error;
  if (error instanceof UnauthorizedError) {
    switch (error.code) {
      case 'credentials_required':
      case 'credentials_bad_scheme':
        return missingToken();
      case 'credentials_bad_format':
        return invalidToken('the Authorization header must be Bearer followed by the token');
      case 'invalid_token':
        return invalidToken(describeVerificationFailure(error.inner));
      case 'revoked_token':
        return invalidToken('the token has been revoked');
    }
  }
  if (error instanceof KeySetUnavailable) {
    const problem = new HttpProblem(
      503,
      problemStatusTitle(503),
      'the identity provider keys are unavailable; try again shortly',
      { headers: { 'Retry-After': '5' } },
    );
    problem.cause = error;
    return problem;
  }
  return error;
}

/** The key a token was verified with, by the kid it named. */
interface SigningKey {
  kid: string;
  key: KeyObject;
}

/** What a verified token comes to, kept for the next request that brings it. */
interface KeptVerification {
  auth: unknown;
  caller: Caller;
  signedWith: SigningKey;
}

/** A verified token's payload and caller, or the problem its request is refused with. */
type Verification = { authorization: string | undefined } & (
  { auth: unknown; caller: Caller } | { problem: unknown }
);

function verified(request: Request, authorization: string | undefined): Verification {
  const { auth } = request as JwtRequest;
  try {
    return { authorization, auth, caller: callerFrom(auth) };
  } catch (problem) {
    return { authorization, problem };
  }
}

function settle(request: Request, verification: Verification, next: NextFunction): void {
  if ('problem' in verification) {
    next(verification.problem);
    return;
  }
  Object.assign(request, { auth: verification.auth, caller: verification.caller });
  next();
}

function callerFrom(payload: unknown): Caller {
  const claims = (payload ?? {}) as { sub?: unknown; exp?: unknown; realm_access?: { roles?: unknown } };
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) {
    throw invalidToken('the token names no subject');
  }
  if (!USER_ID.test(claims.sub)) throw invalidToken(`the token's subject must be ${USER_ID_RULE}`);
  if (typeof claims.exp !== 'number') throw invalidToken('the token has no expiry');
  const roles = claims.realm_access?.roles;
  return {
    userId: claims.sub,
    roles: Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [],
  };
}

/**
 * Bearer JWT authentication: RS256 only, issuer and audience checked, 5 s of clock tolerance, the
 * key chosen by the token's `kid` from `keys`.
 */
export function authentication({ issuer, audience, keys }: AuthenticationOptions): Authentication {
  // The key each request's token was verified with, by its kid: a kept verification holds while
  // the key set still answers that very key for it, and a rotated key ends it at once.
  const signingKeys = new WeakMap<Request, SigningKey>();
  const verify = expressjwt({
    algorithms: ['RS256'],
    issuer,
    audience,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    credentialsRequired: true,
    secret: async (request, token) => {
      if (!token || typeof token.header !== 'object') throw invalidToken('the token is malformed');
      if (token.header.alg !== 'RS256') throw invalidToken('the token must be signed with RS256');
      const { kid } = token.header;
      if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
        throw invalidToken('the token names no signing key');
      }
      const key = await keys.keyFor(kid);
      if (key === undefined) throw invalidToken('the token is signed by an unknown key');
      signingKeys.set(request, { kid, key });
      return key;
    },
  });

  // The rate limiter verifies a request's token before its route does (and then takes the caller
  // off again, so that the route must still ask): the route's pass reuses that verification, kept
  // where nothing else that writes on the request can reach it, for the header it was made for.
  const verifications = new WeakMap<Request, Verification>();
  const tokens = new VerifiedTokens<KeptVerification>(CLOCK_TOLERANCE_SECONDS * 1000);

  /** The verification kept for this header, if its signing key is still the issuer's. */
  const keptFor = async (authorization: string | undefined): Promise<KeptVerification | undefined> => {
    const kept = authorization === undefined ? undefined : tokens.get(authorization);
    if (kept === undefined) return undefined;
    return (await keys.keyFor(kept.signedWith.kid)) === kept.signedWith.key ? kept : undefined;
  };

  const verifyAnew = (request: Request, response: Response, next: NextFunction): void => {
    const authorization = request.header('authorization');
    void verify(request, response, (error?: unknown) => {
      const verification: Verification =
        error === undefined
          ? verified(request, authorization)
          : { authorization, problem: toAuthProblem(error) };
      verifications.set(request, verification);
      const signedWith = signingKeys.get(request);
      if (authorization !== undefined && 'caller' in verification && signedWith !== undefined) {
        const { auth, caller } = verification;
        tokens.keep(authorization, { auth, caller, signedWith }, (auth as { exp: number }).exp);
      }
      settle(request, verification, next);
    });
  };

  const authenticate: RequestHandler = (request, response, next) => {
    const authorization = request.header('authorization');
    const earlier = verifications.get(request);
    if (earlier !== undefined && earlier.authorization === authorization) {
      settle(request, earlier, next);
      return;
    }
    keptFor(authorization).then(
      (kept) => {
        if (kept === undefined) {
          verifyAnew(request, response, next);
          return;
        }
        const verification: Verification = { authorization, auth: kept.auth, caller: kept.caller };
        verifications.set(request, verification);
        settle(request, verification, next);
      },
      // The key set cannot answer: verifying anew tells the client so, as any other request.
      () => verifyAnew(request, response, next),
    );
  };

  const authenticated = [authenticate];

  return {
    authenticated,
    requireRole: (...roles) => [
      ...authenticated,
      (request, _response, next) => {
        const granted = callerOf(request).roles;
        if (roles.some((role) => granted.includes(role))) {
          next();
          return;
        }
        next(
          new HttpProblem(403, problemStatusTitle(403), `this requires the role ${roles.join(' or ')}`, {
            headers: { 'WWW-Authenticate': `${REALM}, error="insufficient_scope"` },
          }),
        );
      },
    ],
  };
}

/** The authenticated caller; a route that forgot `authenticated` answers 401 rather than guess. */
export function callerOf(request: Request): Caller {
  if (!request.caller) throw missingToken();
  return request.caller;
}
