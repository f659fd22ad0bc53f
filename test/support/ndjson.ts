/** The objects of an NDJSON text, one a line; none for an empty text. */
export function parseNdjson<T>(text: string): T[] {
  return text === ''
    ? []
    : text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as T);
}
