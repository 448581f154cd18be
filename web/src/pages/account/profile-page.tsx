import { useState, type FormEvent } from 'react';
import { api, errorMessage, fieldErrors, logIn, setUser } from '../../api/client';
import { Field, Notice, useTitle } from '../../components/ui';
import { useSession } from '../../lib/session';

export function ProfilePage() {
  useTitle('Profile');
  const { user } = useSession();
  return (
    <section className="narrow">
      <h1>Profile</h1>
      <p>
        Signed in as <strong>{user!.email}</strong>.
      </p>
      <UsernameForm current={user!.username} />
      <PasswordForm email={user!.email} />
    </section>
  );
}

function UsernameForm({ current }: { current: string }) {
  const [username, setUsername] = useState(current);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    setError(undefined);
    try {
      const { data, error: apiError } = await api.PATCH('/auth/me/', { body: { username: username.trim() } });
      if (data) {
        setUser(data);
        setResult({ kind: 'success', text: 'Username saved.' });
      } else {
        const fields = fieldErrors(apiError);
        if (fields.username) setError(fields.username);
        else setResult({ kind: 'error', text: errorMessage(apiError) });
      }
    } catch (err) {
      setResult({ kind: 'error', text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-labelledby="username-heading" noValidate>
      <h2 id="username-heading">Username</h2>
      <Field label="Username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} error={error} />
      {result && <Notice kind={result.kind}>{result.text}</Notice>}
      <button type="submit" className="primary" disabled={busy}>
        Save username
      </button>
    </form>
  );
}

function PasswordForm({ email }: { email: string }) {
  const empty = { old_password: '', new_password: '', new_password2: '' };
  const [values, setValues] = useState(empty);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (name: keyof typeof empty) => (e: { target: { value: string } }) => setValues({ ...values, [name]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    setErrors({});
    try {
      const { response, error } = await api.POST('/auth/password/', { body: values });
      if (response.status === 204) {
        // The change revoked every refresh token, this tab's too: sign in again with the new password.
        await logIn(email, values.new_password);
        setValues(empty);
        setResult({ kind: 'success', text: 'Password changed. Other sessions were signed out.' });
      } else {
        const fields = fieldErrors(error);
        setErrors(fields);
        if (!Object.keys(fields).length || fields.non_field_errors) setResult({ kind: 'error', text: errorMessage(error) });
      }
    } catch (err) {
      setResult({ kind: 'error', text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-labelledby="password-heading" noValidate>
      <h2 id="password-heading">Password</h2>
      <Field label="Current password" name="old_password" type="password" autoComplete="current-password" value={values.old_password} onChange={set('old_password')} error={errors.old_password} />
      <Field label="New password" name="new_password" type="password" autoComplete="new-password" value={values.new_password} onChange={set('new_password')} error={errors.new_password} />
      <Field label="Repeat the new password" name="new_password2" type="password" autoComplete="new-password" value={values.new_password2} onChange={set('new_password2')} error={errors.new_password2} />
      {result && <Notice kind={result.kind}>{result.text}</Notice>}
      <button type="submit" className="primary" disabled={busy}>
        Change password
      </button>
    </form>
  );
}
