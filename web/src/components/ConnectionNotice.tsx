import { Alert } from "@mantine/core";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useLiveState } from "../lib/live";

/** Says so when the connection is lost (the browser is offline, or the live stream is reconnecting). */
export function ConnectionNotice() {
  const { t } = useTranslation();
  const live = useLiveState();
  const [online, setOnline] = useState(() => (typeof navigator === "undefined" ? true : navigator.onLine));
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  if (online && live !== "retrying") return null;
  return (
    <Alert color="yellow" role="status" mb="md" data-testid="connection-notice">
      {online ? t("live.reconnecting") : t("live.offline")}
    </Alert>
  );
}
