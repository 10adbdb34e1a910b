/**
 * The change-password page. After logging in with the one-time password it is the only page
 * available until a new password is set. Its handler lives in `node/console/feature.tsx`.
 *
 * @module
 */
import type { PasswordProps } from "../../node/console/mod.ts";
import { CsrfField } from "../../components/Form.tsx";

/** Page title. */
export const title = "Change password";

/** The password form. */
export default function Password({ csrf, firstTime, minLength, error }: PasswordProps) {
  return (
    <section class="card" style={{ maxWidth: "560px", margin: "0 auto" }}>
      {firstTime && <h2>Choose the operator password</h2>}
      {firstTime && (
        <p class="flash flash-ok" role="status">
          You logged in with the one-time password. Choose the operator password to continue.
        </p>
      )}
      {error && <p class="flash flash-error" role="alert">{error}</p>}
      <form method="post" action="/console/password" class="stack">
        <CsrfField token={csrf} />
        <input type="text" name="username" value="operator" autocomplete="username" hidden />
        {!firstTime && (
          <label>
            Current password
            <input type="password" name="current" autocomplete="current-password" required />
          </label>
        )}
        <label>
          New password
          <input
            type="password"
            name="password"
            autocomplete="new-password"
            minLength={minLength}
            required
          />
          <small>At least {minLength} characters. Other sessions are logged out.</small>
        </label>
        <label>
          Repeat new password
          <input
            type="password"
            name="confirm"
            autocomplete="new-password"
            minLength={minLength}
            required
          />
        </label>
        <button type="submit">Set password</button>
      </form>
    </section>
  );
}
