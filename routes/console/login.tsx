/**
 * The login page (the only console page served without a session). Its handler lives in
 * `node/console/plugin.tsx` because it creates sessions.
 *
 * @module
 */
import { CsrfField } from "../../components/Form.tsx";

/** Page title. */
export const title = "Log in";

/** Props of the login form. */
export interface LoginProps {
  /** Double-submit CSRF token (also in a cookie). */
  csrf: string;
  /** Where to go after logging in. */
  next: string;
  error: string | undefined;
}

/** The login form. */
export default function Login({ csrf, next, error }: LoginProps) {
  return (
    <section class="card login">
      <h2>Operator login</h2>
      {error && <p class="flash flash-error" role="alert">{error}</p>}
      <form method="post" action="/console/login" class="stack">
        <CsrfField token={csrf} />
        <input type="hidden" name="next" value={next} />
        <input type="text" name="username" value="operator" autocomplete="username" hidden />
        <label>
          Password
          <input
            type="password"
            name="password"
            autocomplete="current-password"
            required
            autofocus
          />
          <small>
            On first start the node prints a one-time password to its log. Set your own with{" "}
            <code>subspace admin passwd</code>.
          </small>
        </label>
        <button type="submit">Log in</button>
      </form>
    </section>
  );
}
