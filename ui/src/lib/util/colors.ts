import type { MessageKey } from "$lib/i18n";

export type Swatch = { value: string; label: MessageKey };

/** The workspace colour palette (the native colour input allows any other `#rrggbb`). */
export const SWATCHES: readonly Swatch[] = [
  { value: "#4f46e5", label: "colors.indigo" },
  { value: "#2563eb", label: "colors.blue" },
  { value: "#0d9488", label: "colors.teal" },
  { value: "#16a34a", label: "colors.green" },
  { value: "#d97706", label: "colors.amber" },
  { value: "#ea580c", label: "colors.orange" },
  { value: "#e11d48", label: "colors.rose" },
  { value: "#7c3aed", label: "colors.violet" },
];

export const DEFAULT_COLOR = SWATCHES[0]!.value;

export function isHexColor(value: string): boolean {
  return /^#[0-9a-fA-F]{6}$/.test(value);
}

/** The first palette colour no existing workspace uses yet (cycling when all are taken). */
export function suggestColor(used: readonly string[]): string {
  const taken = new Set(used.map((c) => c.toLowerCase()));
  const free = SWATCHES.find((s) => !taken.has(s.value));
  return free?.value ?? SWATCHES[used.length % SWATCHES.length]!.value;
}
