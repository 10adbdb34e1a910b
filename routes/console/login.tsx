/**
 * The login page (the only console page served without a session). Its handler lives in
 * `node/console/feature.tsx` because it creates sessions; the manifest hands this form to it.
 *
 * @module
 */
import type { LoginProps } from "../../node/console/mod.ts";
import { CsrfField } from "../../components/Form.tsx";

/** Page title. */
export const title = "Log in";

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
