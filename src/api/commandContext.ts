import type { Request } from 'express';
import type { CommandContext } from '../commands/commandHandler.js';
import { callerOf } from './auth/authenticate.js';

/**
 * The metadata every event of an authenticated request carries: the caller as actor, and the
 * request id as correlation (shared by all it causes, across the saga) and as direct cause.
 */
export function commandContext(request: Request): CommandContext {
  return {
    actor: callerOf(request).userId,
    correlationId: request.requestId,
    causationId: request.requestId,
    requestId: request.requestId,
  };
}
