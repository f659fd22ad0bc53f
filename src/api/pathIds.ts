import type { Request } from 'express';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { NotFound } from '../domain/shared/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The one definition of an id the shop takes, in a path as in a body: 8-4-4-4-12 hex digits in
 * either case, whatever their version and variant digits say (ids minted elsewhere need not follow
 * RFC 9562), answered lowercased, as ids are stored; undefined for anything else.
 */
export function acceptedUuid(value: unknown): string | undefined {
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : undefined;
}

/** A path id that is not a UUID names nothing that could exist: 404, like an unknown one. */
export function pathId(request: Request, name: string, entity: string): string {
  const id = request.params[name];
  const accepted = acceptedUuid(id);
  if (accepted === undefined) throw new NotFound(entity, String(id));
  return accepted;
}

/** A body field naming an id: what `acceptedUuid` takes, lowercased; anything else is a 400 naming the field. */
export function IsId(): PropertyDecorator {
  const lowercase = Transform(({ value }: { value: unknown }) => acceptedUuid(value) ?? value);
  const validate = ValidateBy({
    name: 'isId',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && acceptedUuid(value) === value,
      defaultMessage: (args) => `${args?.property ?? 'the field'} must be a UUID (8-4-4-4-12 hex digits)`,
    },
  });
  return (target, property) => {
    lowercase(target, property);
    validate(target, property);
  };
}
