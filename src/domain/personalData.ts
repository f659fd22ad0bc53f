/**
 * Which events carry personal data, in which top-level fields of their data, and whose it is (the
 * field naming the customer). Those fields are stored encrypted with that customer's key, so that
 * forgetting the customer erases them from every event at once.
 */
export const PERSONAL_DATA: Readonly<Record<string, { owner: string; fields: readonly string[] }>> = {
  // A digest of personal data is personal data too: a guessed address could be checked against it.
  OrderPlaced: { owner: 'userId', fields: ['shippingAddress', 'requestHash'] },
  CartCheckedOut: { owner: 'userId', fields: ['request'] },
};

/** What a personal field reads as once its owner has been forgotten. */
export const ERASED = '[erased]';
