import { ValidationError } from './errors.js';

/** Money is integer cents everywhere inside; decimal strings only at the edges. */
export type Cents = number;

const DECIMAL = /^\d{1,9}(\.\d{1,2})?$/;

/** Accepts "29.99", "29.9", "29", 29.99 or 29; refuses three decimals, signs, exponents, NaN. */
export function parseMoney(field: string, value: unknown): Cents {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL.test(text)) {
    throw new ValidationError(field, 'must be an amount with at most two decimals, e.g. "29.99"');
  }
  const [units = '0', fraction = ''] = text.split('.');
  return Number(units) * 100 + Number(fraction.padEnd(2, '0'));
}

export function formatMoney(cents: Cents): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}
