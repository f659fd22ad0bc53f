/**
 * A user id (a token's `sub`) names its customer's streams, such as `cart-<user id>`, so it is what
 * a stream id may hold after its category: an id outside this would be refused by the store.
 */
export const USER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$/;

export const USER_ID_RULE = '1 to 200 of A-Z a-z 0-9 _ . : @ -, beginning with a letter or digit';
