/**
 * Jiguang's DATETIME wire format: `yyyy-MM-dd HH:mm:ss`, a wall-clock time with no offset. The
 * adapter writes instants as wall-clock time in one configured IANA zone, using Intl so that
 * daylight-saving rules come from the runtime's time-zone data rather than our own arithmetic.
 */

export type ZonedDateTime =
  | {
      readonly ok: true;
      readonly text: string;
      /** The instant had milliseconds, which the format cannot carry. */
      readonly truncatedMs: boolean;
      /** The wall-clock time occurs twice in the zone (the hour repeated when daylight saving time ends). */
      readonly ambiguous: boolean;
    }
  | { readonly ok: false; readonly reason: string };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      calendar: "gregory",
      numberingSystem: "latn",
      era: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface WallClock {
  readonly era: string;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function wallClock(epochMs: number, timeZone: string): WallClock {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(epochMs)) parts[part.type] = part.value;
  return {
    era: parts.era ?? "",
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

function text(w: WallClock): string {
  const p = (n: number, width = 2): string => String(n).padStart(width, "0");
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
}

/** Offset of the zone from UTC at the instant, in milliseconds (wall clock minus UTC). */
function offsetMs(epochSecondMs: number, timeZone: string): number {
  const w = wallClock(epochSecondMs, timeZone);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const asUtc = new Date(0);
  asUtc.setUTCFullYear(w.era === "BC" ? 1 - w.year : w.year, w.month - 1, w.day);
  asUtc.setUTCHours(w.hour, w.minute, w.second, 0);
  return asUtc.getTime() - epochSecondMs;
}

export function formatJiguangDateTime(date: Date, timeZone: string): ZonedDateTime {
  const epochMs = date.getTime();
  if (Number.isNaN(epochMs)) return { ok: false, reason: "not a valid date-time" };
  const ms = ((epochMs % 1000) + 1000) % 1000;
  const second = epochMs - ms;
  const w = wallClock(second, timeZone);
  if (w.era !== "AD" || w.year > 9999) {
    return { ok: false, reason: `the year is outside 0001–9999 in ${timeZone}, which yyyy-MM-dd HH:mm:ss cannot write` };
  }
  const wall = text(w);
  // Another instant with the same wall clock exists only across an offset change; offsets a day
  // either side cover every transition the tz database has (none are closer than a day).
  const own = offsetMs(second, timeZone);
  let ambiguous = false;
  for (const probe of [second - 86_400_000, second + 86_400_000]) {
    const other = offsetMs(probe, timeZone);
    if (other === own) continue;
    const twin = second + own - other;
    if (twin !== second && text(wallClock(twin, timeZone)) === wall) ambiguous = true;
  }
  return { ok: true, text: wall, truncatedMs: ms !== 0, ambiguous };
}
