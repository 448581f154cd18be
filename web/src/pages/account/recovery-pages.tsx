import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, errorMessage, fieldErrors } from '../../api/client';
import { Field, Loading, Notice, useTitle } from '../../components/ui';

/** Asks for a reset mail. The answer is the same whether or not an account has the address. */
export function ForgotPasswordPage() {
  useTitle('Forgot your password');
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const { data, error } = await api.POST('/auth/password/reset/', { body: { email: email.trim() } });
      if (data) setSent(true);
      else setProblem(fieldErrors(error).email ?? errorMessage(error));
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="narrow">
      <h1>Forgot your password</h1>
      {sent ? (
        <Notice kind="success">
          If an account has this address, a link to choose a new password is on its way. It works once, within an hour.
        </Notice>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field
            label="Email"
            name="email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          {problem && <Notice kind="error">{problem}</Notice>}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Sending…' : 'Send me a link'}
          </button>
        </form>
      )}
    </section>
  );
}

/** Where the reset mail's link lands: `?token=` from the mail, and the new password twice. */
export function ResetPasswordPage() {
  useTitle('Choose a new password');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [password2, setPassword2] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const { error, response } = await api.POST('/auth/password/reset/confirm/', {
        body: { token, new_password: password, new_password2: password2 },
      });
      if (response.status === 204) return setDone(true);
      const fields = fieldErrors(error);
      setErrors(fields);
      setProblem(fields.token ?? (Object.keys(fields).length ? null : errorMessage(error)));
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (!token) return <Notice kind="error">This page needs the link from the password reset mail.</Notice>;
  return (
    <section className="narrow">
      <h1>Choose a new password</h1>
      {done ? (
        <Notice kind="success">
          Your password is changed and every session was signed out. <Link to="/login">Log in</Link> with the new one.
        </Notice>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field
            label="New password"
            name="new_password"
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={errors.new_password}
          />
          <Field
            label="New password again"
            name="new_password2"
            type="password"
            autoComplete="new-password"
            required
            value={password2}
            onChange={(e) => setPassword2(e.target.value)}
            error={errors.new_password2}
          />
          {problem && <Notice kind="error">{problem}</Notice>}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Set the new password'}
          </button>
        </form>
      )}
    </section>
  );
}

/** Where the verification mail's link lands: confirms the address as soon as it opens (the token is the proof). */
export function VerifyEmailPage() {
  useTitle('Confirm your email address');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [state, setState] = useState<{ kind: 'working' } | { kind: 'done'; email: string } | { kind: 'failed'; message: string }>({
    kind: 'working',
  });

  useEffect(() => {
    if (!token) return setState({ kind: 'failed', message: 'This page needs the link from the verification mail.' });
    let live = true;
    api
      .POST('/auth/email/verify/', { body: { token } })
      .then(({ data, error }) => {
        if (!live) return;
        if (data) setState({ kind: 'done', email: data.email });
        else setState({ kind: 'failed', message: fieldErrors(error).token ?? errorMessage(error) });
      })
      .catch((err: unknown) => live && setState({ kind: 'failed', message: errorMessage(err) }));
    return () => {
      live = false;
    };
  }, [token]);

  return (
    <section className="narrow">
      <h1>Confirm your email address</h1>
      {state.kind === 'working' && <Loading what="Confirming" />}
      {state.kind === 'done' && <Notice kind="success">{state.email} is confirmed. Thank you.</Notice>}
      {state.kind === 'failed' && <Notice kind="error">{state.message}</Notice>}
    </section>
  );
}
