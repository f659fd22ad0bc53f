import { ValidateBy, type ValidationOptions } from 'class-validator';

// Pattern sources, so that the OpenAPI description states the very rules the server applies. They
// are read with the `u` flag, under which a surrogate pair is one code point: `\p{Cs}` matches only
// a lone surrogate.

/** The control characters (C0, DEL, C1) but tab and newline, which text on several lines needs. */
const CONTROL_BUT_LINE_BREAKS = '\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F';
// U+2028 and U+2029 end a line as surely as a newline does.
const LINE_BREAKS = '\\t\\n\\u2028\\u2029';
const LONE_SURROGATE = '\\p{Cs}';
/** What shows nothing: whitespace, default-ignorable code points (U+200B, U+2060, U+FEFF, ...), a blank braille cell. */
const INVISIBLE = '\\s\\p{Default_Ignorable_Code_Point}\\u2800';

export interface TextOptions {
  /** Tab and newline allowed, as in a description. */
  multiline?: boolean;
  /** Empty or invisible text allowed, as in an optional second address line. */
  blank?: boolean;
}

/** Inside a character class: what a text may not hold. */
const untaken = ({ multiline = false }: TextOptions): string =>
  `${CONTROL_BUT_LINE_BREAKS}${multiline ? '' : LINE_BREAKS}${LONE_SURROGATE}`;

/**
 * The pattern a text field's value matches: no NUL or lone surrogate, which the event store refuses,
 * no control character, which no field of the shop means (text on several lines keeps tab and
 * newline), and unless `blank`, something visible. One character class and one lookahead, so that
 * matching stays linear in the length of the text.
 */
export function textPattern(options: TextOptions = {}): string {
  const visible = options.blank === true ? '' : `(?=[${INVISIBLE}]*[^${INVISIBLE}])`;
  return `^${visible}[^${untaken(options)}]*$`;
}

/** One run of text without whitespace, such as a URL. */
export const NO_SPACE_PATTERN = `^[^${untaken({})}\\s]+$`;

const SINGLE_LINE_FAULT = new RegExp(`[${untaken({})}]`, 'u');
const MULTILINE_FAULT = new RegExp(`[${untaken({ multiline: true })}]`, 'u');

const codePoint = (character: string): string =>
  `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `text` does not match `textPattern` (blankness aside), in words for the client; undefined if it does. */
export function textFault(text: string, options: TextOptions = {}): string | undefined {
  const fault = (options.multiline === true ? MULTILINE_FAULT : SINGLE_LINE_FAULT).exec(text)?.[0];
  if (fault === undefined) return undefined;
  if (fault === '\0') return 'must not contain a NUL character';
  if (/\p{Cs}/u.test(fault)) return `must not contain a lone surrogate (${codePoint(fault)})`;
  return `must not contain the control character ${codePoint(fault)}`;
}

/**
 * A string field the shop can store and show, matching `textPattern(options)`: a name of U+200B
 * alone is refused like an empty one unless `blank` is set.
 */
export function IsText(options: TextOptions = {}, validationOptions?: ValidationOptions): PropertyDecorator {
  const pattern = new RegExp(textPattern(options), 'u');
  const fault = (value: unknown): string => {
    if (typeof value !== 'string') return 'must be a string';
    return textFault(value, options) ?? 'must not be blank: it holds only whitespace or invisible characters';
  };
  return ValidateBy(
    {
      name: 'isText',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && pattern.test(value),
        defaultMessage: (args) => `${args?.property ?? 'the field'} ${fault(args?.value)}`,
      },
    },
    validationOptions,
  );
}
