import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, errorMessage, fieldErrors, logIn } from '../../api/client';
import { Field, Notice, useTitle } from '../../components/ui';

/** Only paths inside the app: `?next=` must not send anyone to another site. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LoginPage() {
  useTitle('Log in');
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    const result = await logIn(login.trim(), password).catch((err: unknown) => ({ ok: false as const, error: err }));
    setBusy(false);
    if (result.ok) return navigate(safeNext(params.get('next')), { replace: true });
    const fields = fieldErrors(result.error);
    setErrors({ login: fields.email ?? fields.username ?? '', password: fields.password ?? '' });
    setProblem(fields.non_field_errors ?? (Object.keys(fields).length ? null : errorMessage(result.error)));
  };

  return (
    <section className="narrow">
      <h1>Log in</h1>
      <form onSubmit={submit} noValidate>
        <Field
          label="Email or username"
          name="login"
          autoComplete="username"
          required
          value={login}
          onChange={(e) => setLogin(e.target.value)}
          error={errors.login || undefined}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password || undefined}
        />
        {problem && <Notice kind="error">{problem}</Notice>}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p>
        New here? <Link to="/signup">Sign up</Link> · <Link to="/forgot-password">Forgot your password?</Link>
      </p>
    </section>
  );
}

const SIGNUP_FIELDS = ['email', 'username', 'password', 'password2'] as const;

export function SignUpPage() {
  useTitle('Sign up');
  const navigate = useNavigate();
  const [values, setValues] = useState<Record<(typeof SIGNUP_FIELDS)[number], string>>({
    email: '',
    username: '',
    password: '',
    password2: '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (name: keyof typeof values) => (e: { target: { value: string } }) => setValues({ ...values, [name]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const { data, error } = await api.POST('/auth/register/', { body: { ...values, email: values.email.trim() } });
      if (!data) {
        const fields = fieldErrors(error);
        setErrors(fields);
        const unplaced = Object.keys(fields).filter((f) => !(SIGNUP_FIELDS as readonly string[]).includes(f));
        setProblem(unplaced.length || !Object.keys(fields).length ? errorMessage(error) : null);
        return;
      }
      const login = await logIn(values.email.trim(), values.password);
      navigate(login.ok ? '/' : '/login', { replace: true });
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="narrow">
      <h1>Sign up</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required value={values.email} onChange={set('email')} error={errors.email} />
        <Field
          label="Username"
          name="username"
          autoComplete="username"
          required
          value={values.username}
          onChange={set('username')}
          error={errors.username}
          hint="Letters, digits and @ . + - _ only."
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          value={values.password}
          onChange={set('password')}
          error={errors.password}
          hint="At least 8 characters, not only digits, not a common password."
        />
        <Field
          label="Repeat the password"
          name="password2"
          type="password"
          autoComplete="new-password"
          required
          value={values.password2}
          onChange={set('password2')}
          error={errors.password2}
        />
        {problem && <Notice kind="error">{problem}</Notice>}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing up…' : 'Sign up'}
        </button>
      </form>
      <p>
        Already have an account? <Link to="/login">Log in</Link>
      </p>
    </section>
  );
}
