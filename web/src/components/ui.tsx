import {
  useEffect,
  useId,
  useRef,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';

/** What ties a control to its hint and error: its id, aria-invalid and aria-describedby. */
type ControlAria = { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string };

/** A label, a control, and its hint and error announced with it: one frame for every kind of field. */
function Labelled({
  label,
  hint,
  error,
  control,
}: {
  label: string;
  hint?: string;
  error?: string;
  control: (aria: ControlAria) => ReactNode;
}) {
  const id = useId();
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {control({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': described })}
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** A labelled input with its error announced and tied to it (aria-describedby). */
export function Field({
  label,
  error,
  hint,
  ...input
}: { label: string; error?: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  return <Labelled label={label} hint={hint} error={error} control={(aria) => <input {...aria} {...input} />} />;
}

/** A labelled text area, its error tied to it like Field's. */
export function TextAreaField({ label, error, ...area }: { label: string; error?: string } & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return <Labelled label={label} error={error} control={(aria) => <textarea rows={5} {...aria} {...area} />} />;
}

/** A labelled select, its error tied to it like Field's. */
export function SelectField({
  label,
  error,
  children,
  ...select
}: { label: string; error?: string; children: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <Labelled
      label={label}
      error={error}
      control={(aria) => (
        <select {...aria} {...select}>
          {children}
        </select>
      )}
    />
  );
}

/** An error (role=alert, read out at once) or a piece of news (role=status). */
export function Notice({ kind, children }: { kind: 'error' | 'success' | 'info'; children: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {what}…
    </p>
  );
}

/** The error of a failed load, with a way to try again. */
export function LoadError({ message, retry }: { message: string; retry: () => void }) {
  return (
    <div className="notice notice-error" role="alert">
      <p>{message}</p>
      <button type="button" onClick={retry}>
        Try again
      </button>
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'warn' | 'bad' | 'info' | 'good'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/**
 * A modal confirmation on the native <dialog>: the browser traps focus, Escape cancels and focus returns to
 * the opener when it closes.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={onCancel} className="dialog">
      <h2 id={titleId}>{title}</h2>
      {children}
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Keep it
        </button>
        <button type="button" className="danger" onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Sets the document title (announced by screen readers on navigation) while the page is shown. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Events`;
  }, [title]);
}
