// Puts a failed save's field errors beside their fields; the values the user typed stay in the form.
import { ApiError } from "./errors";

interface FormLike {
  setFieldError: (path: string, error: string) => void;
}

/** Returns true when the error named fields (they are now shown on the form). */
export function showFieldErrors(form: FormLike, error: unknown, known: readonly string[]): boolean {
  if (!(error instanceof ApiError) || !error.isValidation) return false;
  let shown = false;
  for (const [field, message] of Object.entries(error.fields)) {
    const name = known.find((k) => field === k || field.endsWith(`.${k}`));
    if (name) {
      form.setFieldError(name, message);
      shown = true;
    }
  }
  return shown;
}
