/**
 * The public `/signup` page: a captcha and a form, rendered on the server (no script needed).
 *
 * @module
 */
import { renderToString } from "preact-render-to-string";

/** What the signup page shows. */
export type SignupView =
  | { kind: "form"; captchaId: string; svg: string; error?: string | undefined }
  | { kind: "done"; account: string; freeTokens: number; periodSeconds: number; server: string };

const STYLE =
  `body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#111}
h1{font-size:1.5rem}.captcha{background:#f4f4f4;border:1px solid #ccc;display:inline-block;padding:.25rem}
input{font-size:1.1rem;padding:.4rem}button{font-size:1.1rem;padding:.4rem 1rem}
.error{color:#a00}.account{font-family:ui-monospace,monospace;font-size:1.2rem;background:#eef;padding:.5rem;word-break:break-all}
code{background:#f4f4f4;padding:.1rem .3rem}`;

function period(seconds: number): string {
  if (seconds % 86400 === 0) return seconds === 86400 ? "day" : `${seconds / 86400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? "hour" : `${seconds / 3600} hours`;
  return `${seconds} seconds`;
}

function Page(props: { view: SignupView }) {
  const v = props.view;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Subspace signup</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <h1>Get a Subspace account</h1>
        {v.kind === "form"
          ? (
            <form method="post" action="/signup">
              <p>
                Type the characters you see. The account number you get lets your wallet fetch
                anonymous tokens; each message you send spends one.
              </p>
              {v.error ? <p class="error" role="alert">{v.error}</p> : null}
              <div class="captcha" dangerouslySetInnerHTML={{ __html: v.svg }} />
              <input type="hidden" name="captcha_id" value={v.captchaId} />
              <p>
                <label>
                  Characters:{" "}
                  <input
                    name="answer"
                    autocomplete="off"
                    autocapitalize="off"
                    spellcheck={false}
                    required
                    autofocus
                  />
                </label>{" "}
                <button type="submit">Sign up</button>
              </p>
            </form>
          )
          : (
            <div>
              <p>Your account number (keep it secret; it is shown only once):</p>
              <p class="account" id="account">{v.account}</p>
              <p>
                It gives {v.freeTokens} free tokens per {period(v.periodSeconds)}. Fetch some with
              </p>
              <p>
                <code>
                  subspace tokens --server {v.server} --account {v.account} --count 20
                </code>
              </p>
            </div>
          )}
      </body>
    </html>
  );
}

/** Renders the signup page as a full HTML document. */
export function renderSignupPage(view: SignupView): string {
  return "<!doctype html>" + renderToString(<Page view={view} />);
}
