/** Sign-in and sign-up. */
import { useState } from "preact/hooks";
import { api, ApiError, type Me } from "./api.ts";
import { loadMe, me, navigate } from "./state.ts";

export function AuthPage({ mode }: { mode: "login" | "signup" }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const isSignup = mode === "signup";

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      // Sign-up answers alike for new and taken emails (so it reveals no account); signing in
      // with the same details is what tells the person whether it worked.
      if (isSignup) await api("/api/auth/signup", { method: "POST", body: { email, password } });
      try {
        await api("/api/auth/login", { method: "POST", body: { email, password }, quiet401: true });
      } catch (err) {
        if (isSignup && err instanceof ApiError && err.status === 401) {
          throw new Error(
            "We could not sign you in with that email and password. If you already have an account, sign in with its password.",
          );
        }
        throw err;
      }
      await loadMe();
      if ((me.value as Me | null) !== null) navigate("/");
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        const minutes = Math.ceil((err.retryAfterS ?? 60) / 60);
        setError(`Too many attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`);
      } else {
        setError((err as Error).message);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth" id="main">
      <div class="auth-card">
        <div class="brand brand-large" aria-hidden="true">
          <span class="logo">M</span> Meridian
        </div>
        <h1>{isSignup ? "Create your account" : "Sign in"}</h1>
        <p class="muted">
          {isSignup
            ? "All your brokerage accounts in one place, on your own server."
            : "Welcome back. Sign in to see your portfolio."}
        </p>
        <form onSubmit={submit} noValidate={false}>
          <label for="email">Email</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            required
            value={email}
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
          />
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete={isSignup ? "new-password" : "current-password"}
            required
            minLength={isSignup ? 10 : 1}
            aria-describedby={isSignup ? "password-hint" : undefined}
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
          {isSignup && <p id="password-hint" class="hint">At least 10 characters.</p>}
          {error && (
            <p class="form-error" role="alert">
              {error}
            </p>
          )}
          <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            {isSignup ? "Create account" : "Sign in"}
          </button>
        </form>
        <p class="switch">
          {isSignup ? "Already have an account? " : "New to Meridian? "}
          <a
            href={isSignup ? "/login" : "/signup"}
            onClick={(e) => {
              e.preventDefault();
              navigate(isSignup ? "/login" : "/signup");
            }}
          >
            {isSignup ? "Sign in" : "Create an account"}
          </a>
        </p>
      </div>
    </main>
  );
}
