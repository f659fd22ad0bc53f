import type { Request } from 'express';
import { NotFound } from '../domain/shared/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID names nothing that could exist: 404, like an unknown one. */
export function pathId(request: Request, name: string, entity: string): string {
  const id = request.params[name];
  if (typeof id !== 'string' || !UUID.test(id)) throw new NotFound(entity, String(id));
  return id.toLowerCase();
}
