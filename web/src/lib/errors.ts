// One error type for every failed API call, from the gateway's one error shape:
// {"error": "validation_error", "message": "…", "fields": {"email": "…"}, "requestId": "…"}.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;
  readonly requestId?: string;

  constructor(status: number, body: unknown, fallback: string) {
    const data = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
    super(typeof data.message === "string" ? data.message : fallback);
    this.name = "ApiError";
    this.status = status;
    this.code = typeof data.error === "string" ? data.error : String(status);
    this.fields = normaliseFields(data.fields ?? data.detail);
    this.requestId = typeof data.requestId === "string" ? data.requestId : undefined;
  }

  get isValidation(): boolean {
    return this.status === 422 || (this.status === 400 && Object.keys(this.fields).length > 0);
  }
}

/** The network failed (server down, connection lost): no HTTP answer at all. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super("network");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

function normaliseFields(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw && typeof raw === "object" && !Array.isArray(raw)) {
    for (const [key, value] of Object.entries(raw)) out[key] = String(value);
  } else if (Array.isArray(raw)) {
    // FastAPI's own shape, in case a service answers it unwrapped: [{loc: ["body", "email"], msg}]
    for (const item of raw) {
      const loc = (item?.loc ?? []) as unknown[];
      const name = loc.filter((part) => part !== "body" && part !== "query").join(".");
      if (name) out[name] = String(item?.msg ?? "invalid");
    }
  }
  return out;
}

type Translate = (key: string, options?: Record<string, unknown>) => string;

/** A title and a sentence for the user, in their language. */
export function describeError(error: unknown, t: Translate) {
  if (error instanceof NetworkError) return { title: t("errors.networkTitle"), message: t("errors.network") };
  if (error instanceof ApiError) {
    if (error.status === 403) return { title: t("errors.forbiddenTitle"), message: t("errors.forbidden", { detail: error.message }) };
    if (error.status === 404) return { title: t("errors.notFoundTitle"), message: t("errors.notFound") };
    if (error.status === 409) return { title: t("errors.conflictTitle"), message: error.message };
    if (error.status === 429) return { title: t("errors.tooManyTitle"), message: t("errors.tooMany") };
    if (error.isValidation) return { title: t("errors.validationTitle"), message: error.message };
    return { title: t("errors.failedTitle"), message: `${error.message} (${error.status})` };
  }
  return { title: t("errors.failedTitle"), message: String((error as Error)?.message ?? error) };
}
