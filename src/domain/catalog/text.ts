import { ValidationError } from '../shared/errors.js';

/** Counts code points, as Postgres `char_length` does, so an emoji counts as one character and not two. */
export const characterCount = (text: string): number => [...text].length;

/** A display name: stored trimmed, and never blank. */
export function requireName(value: string, maxLength: number): string {
  const name = value.trim();
  const length = characterCount(name);
  if (length < 1 || length > maxLength) {
    throw new ValidationError(
      'name',
      `must be 1 to ${maxLength} characters long, not counting surrounding spaces`,
    );
  }
  return name;
}
