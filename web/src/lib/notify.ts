import { notifications } from "@mantine/notifications";
import i18n from "./i18n";
import { describeError } from "./errors";

export function notifySaved(message: string): void {
  notifications.show({ color: "green", message });
}

/** A failed save: the form keeps what the user typed; this says why. */
export function notifyFailure(error: unknown): void {
  const { title, message } = describeError(error, (k, o) => i18n.t(k, o));
  notifications.show({ color: "red", title, message });
}
