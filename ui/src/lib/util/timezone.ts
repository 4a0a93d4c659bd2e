/** Display form of an IANA zone id: `America/New_York` -> `America/New York`. */
export function zoneLabel(zone: string): string {
  return zone.replace(/_/g, " ");
}

const offsetFormats = new Map<string, Intl.DateTimeFormat | null>();

function offsetFormat(zone: string): Intl.DateTimeFormat | null {
  let format = offsetFormats.get(zone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" });
    } catch {
      format = null; // unknown to this webview's ICU, or `shortOffset` unsupported
    }
    offsetFormats.set(zone, format);
  }
  return format;
}

/**
 * The zone's current UTC offset as `+05:30`, `-04:00` or `+00:00`; `null` when the
 * webview can't tell.
 */
export function utcOffset(zone: string, at: Date = new Date()): string | null {
  const format = offsetFormat(zone);
  if (!format) return null;
  const part = format.formatToParts(at).find((p) => p.type === "timeZoneName")?.value;
  if (!part) return null;
  if (part === "GMT" || part === "UTC") return "+00:00";
  const match = /^(?:GMT|UTC)([+\-\u2212])(\d{1,2})(?::?(\d{2}))?$/.exec(part);
  if (!match) return null;
  const sign = match[1] === "+" ? "+" : "-";
  const hours = (match[2] ?? "0").padStart(2, "0");
  const minutes = match[3] ?? "00";
  return `${sign}${hours}:${minutes}`;
}

/** Lower-cased, underscore-free text used to match zones against a search query. */
export function searchable(text: string): string {
  return text.toLowerCase().replace(/_/g, " ").trim();
}

/**
 * Zones matching `query`, best first: exact id, then city names starting with the
 * query, then ids starting with it, then any other occurrence.
 */
export function filterZones(zones: readonly string[], query: string): string[] {
  const q = searchable(query);
  if (!q) return [...zones];
  const ranked: { zone: string; score: number; index: number }[] = [];
  zones.forEach((zone, index) => {
    const id = searchable(zone);
    const city = id.slice(id.lastIndexOf("/") + 1);
    let score: number;
    if (id === q) score = 0;
    else if (city.startsWith(q)) score = 1;
    else if (id.startsWith(q)) score = 2;
    else if (id.includes(q)) score = 3;
    else return;
    ranked.push({ zone, score, index });
  });
  ranked.sort((a, b) => a.score - b.score || a.index - b.index);
  return ranked.map((r) => r.zone);
}

/** The zone whose id equals `text` ignoring case, if any. */
export function exactZone(zones: readonly string[], text: string): string | undefined {
  const q = text.trim().toLowerCase();
  return zones.find((zone) => zone.toLowerCase() === q);
}
