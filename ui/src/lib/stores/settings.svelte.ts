import { api, type AppInfo, type Language, type Settings } from "$lib/api";
import { resolveLocale, setLocale, type Locale } from "$lib/i18n";

class SettingsStore {
  language = $state<Language>("system");
  appInfo = $state<AppInfo | null>(null);
  /** IANA zones the core accepts, for the time zone picker. */
  timeZones = $state<string[]>([]);

  /** What `system` resolves to on this machine (for the "System default (…)" label). */
  systemLocale = $derived<Locale>(resolveLocale("system", this.appInfo?.systemLocale));

  /** Applies a snapshot loaded at start. */
  hydrate(snapshot: { settings: Settings; appInfo: AppInfo; timeZones: string[] }): void {
    this.appInfo = snapshot.appInfo;
    this.timeZones = snapshot.timeZones;
    this.apply(snapshot.settings.language);
  }

  /** Saves the language and switches the UI to it at once. */
  async setLanguage(language: Language): Promise<void> {
    const saved = await api.setLanguage(language);
    this.apply(saved.language);
  }

  private apply(language: Language): void {
    this.language = language;
    setLocale(resolveLocale(language, this.appInfo?.systemLocale));
  }
}

export const settings = new SettingsStore();
