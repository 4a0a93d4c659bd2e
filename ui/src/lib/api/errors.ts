import type { ErrorCode, IpcError } from "$lib/bindings";
import { t } from "$lib/i18n";

export type { ErrorCode } from "$lib/bindings";

export const ERROR_CODES: readonly ErrorCode[] = [
  "invalid_input",
  "not_found",
  "conflict",
  "keychain_unavailable",
  "database_incompatible",
  "io",
  "auth_failed",
  "needs_reconnect",
  "rate_limited",
  "network_unavailable",
  "network_refused",
  "cancelled",
  "internal",
];

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** An error reported by the Rust core (or a failure to reach it). */
export class AppError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
  }

  /** Turns an IPC error payload (or anything else that was thrown) into an `AppError`. */
  static from(error: unknown): AppError {
    if (error instanceof AppError) return error;
    if (isIpcErrorLike(error)) {
      const code = isErrorCode(error.code) ? error.code : "internal";
      const message = typeof error.message === "string" ? error.message : "";
      return new AppError(code, message, { cause: error });
    }
    if (error instanceof Error) return new AppError("internal", error.message, { cause: error });
    if (typeof error === "string") return new AppError("internal", error, { cause: error });
    return new AppError("internal", "", { cause: error });
  }
}

function isIpcErrorLike(value: unknown): value is { code: unknown; message: unknown } {
  return typeof value === "object" && value !== null && "code" in value;
}

/** Maps an IPC error payload to an `AppError`; unknown codes become `internal`. */
export function fromIpcError(error: IpcError | { code: string; message: string }): AppError {
  return AppError.from(error);
}

/**
 * A localized, user-facing message for any error: a translated lead-in chosen by the
 * error code, followed by the backend's (English) detail when there is one.
 */
export function errorMessage(error: unknown): string {
  const appError = AppError.from(error);
  const leadIn = t(`errors.${appError.code}`);
  const detail = appError.message.trim();
  if (!detail) return leadIn;
  return t("errors.withDetail", { message: leadIn, detail });
}
