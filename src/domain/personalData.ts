/**
 * Which events carry personal data, in which top-level fields of their data, and whose it is (the
 * field naming the customer). Those fields are stored encrypted with that customer's key, so that
 * forgetting the customer erases them from every event at once.
 */
export const PERSONAL_DATA: Readonly<Record<string, { owner: string; fields: readonly string[] }>> = {
  // A digest of personal data is personal data too: a guessed address could be checked against it.
  // The payment method is sealed whole, its type with its token: the registry seals top-level
  // fields, and an erased order then reads `"[erased]"` there like its address.
  OrderPlaced: { owner: 'userId', fields: ['shippingAddress', 'requestHash', 'paymentMethod'] },
  // The recorded request holds the address and the payment method: sealed as one.
  CartCheckedOut: { owner: 'userId', fields: ['request'] },
  PaymentRequested: { owner: 'userId', fields: ['token'] },
};

/** What a personal field reads as once its owner has been forgotten. */
export const ERASED = '[erased]';

/**
 * Where events carry a card token, as a path into their data. Sealing keeps it out of the stored
 * rows, yet readers get it opened; what people are shown (the export, the audit view) must still
 * never hold it in clear, events written before it was sealed included.
 */
const CARD_TOKENS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  OrderPlaced: [['paymentMethod', 'token']],
  CartCheckedOut: [['request', 'paymentMethod', 'token']],
  PaymentRequested: [['token']],
};

const ELLIPSIS = '…';

/**
 * A card token as people may see it: a few characters of each end, enough to tell cards apart.
 * Each end shows at most a quarter of the token, so at least half of it stays hidden however
 * short it is; from 16 characters on, that is the first 4 and the last 3.
 */
export function maskToken(token: string): string {
  // By code point, so that a character outside the BMP is never cut in half.
  const characters = [...token];
  const quarter = Math.floor(characters.length / 4);
  const head = characters.slice(0, Math.min(4, quarter)).join('');
  const tail = characters.slice(characters.length - Math.min(3, quarter)).join('');
  return `${head}${ELLIPSIS}${tail}`;
}

function masked(value: unknown, path: readonly string[]): unknown {
  const [field, ...rest] = path;
  // An erased or absent part of the path holds no token to hide.
  if (field === undefined || typeof value !== 'object' || value === null || !(field in value)) return value;
  const inner = (value as Record<string, unknown>)[field];
  if (rest.length > 0) return { ...value, [field]: masked(inner, rest) };
  if (inner === ERASED) return value;
  // Whatever else stands where a token belongs is hidden whole, rather than shown on trust.
  return { ...value, [field]: typeof inner === 'string' ? maskToken(inner) : ELLIPSIS };
}

/** The event's data with every card token masked; the data of other events as it is. */
export function withCardTokensMasked<T extends Readonly<Record<string, unknown>>>(type: string, data: T): T {
  // Own entries only: a type such as `constructor` must not reach the object's prototype.
  const paths = Object.hasOwn(CARD_TOKENS, type) ? (CARD_TOKENS[type] ?? []) : [];
  return paths.reduce<T>((current, path) => masked(current, path) as T, data);
}
