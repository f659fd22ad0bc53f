/** Input that can never be valid, whatever the state: a quantity of 0, a price with three decimals. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A command the current state does not allow: shipping a cancelled order, deactivating twice. */
export class RuleViolation extends Error {
  override readonly name = 'RuleViolation';
}

/** A rule about an order's content rather than its state: a total outside the allowed range. */
export class OrderRuleViolation extends Error {
  override readonly name = 'OrderRuleViolation';
}

/** The aggregate does not exist (or, to its caller, must look as if it did not). */
export class NotFound extends Error {
  override readonly name = 'NotFound';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} not found`);
  }
}
