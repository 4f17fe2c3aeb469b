import { Center, Loader } from "@mantine/core";
import { Suspense, type ReactNode } from "react";

export function Suspended({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <Center p="xl">
          <Loader aria-label="Loading" />
        </Center>
      }
    >
      {children}
    </Suspense>
  );
}
