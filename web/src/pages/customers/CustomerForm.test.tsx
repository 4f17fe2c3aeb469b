import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../lib/errors";
import { renderWithProviders } from "../../test/render";
import { CustomerForm } from "./CustomerForm";

describe("CustomerForm", () => {
  it("shows a 422 beside its field and keeps what the user typed", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, { error: "validation_error", message: "Invalid input", fields: { email: "value is not a valid email address" } }, ""),
    );
    renderWithProviders(<CustomerForm onSubmit={onSubmit} onCancel={() => {}} />);
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/Name/), "Acme");
    await user.type(screen.getByLabelText("Email"), "not-an-email");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.getByText("value is not a valid email address")).toBeInTheDocument());
    expect(screen.getByLabelText("Email")).toHaveValue("not-an-email");
    expect(screen.getByLabelText("Email")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText(/Name/)).toHaveValue("Acme");
  });

  it("explains a 403 instead of failing silently", async () => {
    const onSubmit = vi.fn().mockRejectedValue(new ApiError(403, { error: "forbidden", message: "Role not allowed" }, ""));
    renderWithProviders(<CustomerForm onSubmit={onSubmit} onCancel={() => {}} />);
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/Name/), "Acme");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Not allowed")).toBeInTheDocument();
  });
});
