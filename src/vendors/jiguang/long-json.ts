/**
 * JSON with 64-bit integers kept exact. Jiguang's CUID is a Java Long; `JSON.parse` and
 * `JSON.stringify` round anything past 2^53 (9223372036854775807 would become
 * 9223372036854775808), and Node 20 has neither `JSON.rawJSON` nor reviver source access.
 */

/** A decimal Long as text: digits only, no sign, no leading zero (CUIDs are positive). */
export type LongText = string & { readonly __long: true };

const LONG_MAX = 9223372036854775807n;

/** The canonical positive Long, or `undefined` when the text is anything else. */
export function parseLong(text: string): LongText | undefined {
  if (!/^[1-9]\d{0,18}$/.test(text)) return undefined;
  return BigInt(text) <= LONG_MAX ? (text as LongText) : undefined;
}

/**
 * Parses JSON like `JSON.parse`, except that integers outside the safe range come back as
 * `bigint` instead of a rounded number. Throws `SyntaxError` on invalid input.
 */
export function parseJsonKeepingLongs(text: string): unknown {
  const parser = new Parser(text);
  const value = parser.value(0);
  parser.end();
  return value;
}

/**
 * `{"cuid":<digits>,"data":{...}}` with the CUID spliced in as a JSON integer, so that no digit
 * passes through a JS number. The CUID type guarantees the splice is a plain integer literal.
 */
export function serializeWithCuid(cuid: LongText, data: unknown): string {
  return `{"cuid":${cuid},"data":${JSON.stringify(data)}}`;
}

/** A JSON value read from a parsed object as a Long, accepting a JSON integer or a digit string. */
export function longFrom(value: unknown): LongText | undefined {
  if (typeof value === "bigint") return parseLong(value.toString());
  if (typeof value === "number") return Number.isSafeInteger(value) ? parseLong(String(value)) : undefined;
  if (typeof value === "string") return parseLong(value);
  return undefined;
}

const MAX_DEPTH = 256;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const INTEGER = /^-?\d+$/;

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw this.error("nesting too deep");
    this.skipSpace();
    const c = this.text[this.pos];
    switch (c) {
      case "{":
        return this.object(depth);
      case "[":
        return this.array(depth);
      case '"':
        return this.string();
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "n":
        return this.literal("null", null);
      default:
        return this.number();
    }
  }

  end(): void {
    this.skipSpace();
    if (this.pos !== this.text.length) throw this.error("unexpected text after the value");
  }

  private object(depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.pos++; // {
    this.skipSpace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') throw this.error("expected a property name");
      const key = this.string();
      this.skipSpace();
      if (this.text[this.pos] !== ":") throw this.error('expected ":"');
      this.pos++;
      // defineProperty, not assignment: a "__proto__" key must stay an ordinary property.
      Object.defineProperty(result, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const next = this.text[this.pos++];
      if (next === "}") return result;
      if (next !== ",") throw this.error('expected "," or "}"');
    }
  }

  private array(depth: number): unknown[] {
    const result: unknown[] = [];
    this.pos++; // [
    this.skipSpace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return result;
    }
    for (;;) {
      result.push(this.value(depth + 1));
      this.skipSpace();
      const next = this.text[this.pos++];
      if (next === "]") return result;
      if (next !== ",") throw this.error('expected "," or "]"');
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++; // opening quote
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) throw this.error("unterminated string");
      if (c === "\\") this.pos += 2;
      else if (c === '"') break;
      else this.pos++;
    }
    this.pos++; // closing quote
    // JSON.parse validates escapes and control characters exactly as the standard says.
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) throw this.error("unexpected character");
    this.pos += match[0].length;
    const token = match[0];
    const value = Number(token);
    if (INTEGER.test(token) && !Number.isSafeInteger(value)) return BigInt(token);
    return value;
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) throw this.error("unexpected character");
    this.pos += word.length;
    return value;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  private error(message: string): SyntaxError {
    return new SyntaxError(`invalid JSON at position ${this.pos}: ${message}`);
  }
}
