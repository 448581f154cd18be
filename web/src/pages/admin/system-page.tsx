import { useState } from 'react';
import { api, errorMessage } from '../../api/client';
import { LoadError, Loading, Notice, useTitle } from '../../components/ui';
import { formatDateTime, plural } from '../../lib/format';
import { useApi } from '../../lib/use-api';

type Integrity = { ok: boolean; checked_at: string; problems: { check: string; detail: string }[] };

export function AdminSystemPage() {
  useTitle('System · Admin');
  const status = useApi(() => api.GET('/admin/system/'), 'system');
  const [integrity, setIntegrity] = useState<Integrity | null>(null);
  const [checking, setChecking] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const check = async () => {
    setChecking(true);
    setProblem(null);
    try {
      const { data, error } = await api.POST('/admin/system/integrity/');
      if (data) setIntegrity(data);
      else setProblem(errorMessage(error));
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setChecking(false);
    }
  };

  if (status.loading && !status.data) return <Loading what="Loading the system status" />;
  if (status.error && !status.data) return <LoadError message={status.error} retry={() => status.reload()} />;
  const s = status.data!;
  return (
    <>
      <h1>System</h1>
      <dl className="facts">
        <dt>Version</dt>
        <dd>{s.version}</dd>
        <dt>Database</dt>
        <dd>{s.database === 'embedded' ? 'Embedded (PGlite)' : 'PostgreSQL'}</dd>
        <dt>Users</dt>
        <dd>{s.counts.users}</dd>
        <dt>Events</dt>
        <dd>{s.counts.events}</dd>
        <dt>Registrations</dt>
        <dd>{s.counts.registrations}</dd>
        <dt>Tickets</dt>
        <dd>{s.counts.tickets}</dd>
        <dt>Feedback</dt>
        <dd>{s.counts.feedbacks}</dd>
      </dl>
      <button type="button" onClick={() => status.reload(true)}>
        Refresh
      </button>

      <h2>Pending scheduled jobs</h2>
      {s.pending_jobs.count === 0 ? (
        <p>No job is waiting.</p>
      ) : (
        <>
          <p>{plural(s.pending_jobs.count, 'job')} waiting; the soonest:</p>
          <ul className="admin-list">
            {s.pending_jobs.next.map((job) => (
              <li key={job.id}>
                <strong>{job.kind.replace(/_/g, ' ')}</strong> at {formatDateTime(job.run_at)}
                {job.attempts > 0 && ` · ${plural(job.attempts, 'failed attempt')}`}
                {job.last_error && <span className="hint"> · last error: {job.last_error}</span>}
              </li>
            ))}
          </ul>
        </>
      )}

      <h2>Data integrity</h2>
      <p>Checks seat counts, tickets, ticket codes and rating totals against the rows they summarize (read-only).</p>
      <button type="button" className="primary" onClick={() => void check()} disabled={checking}>
        Run the integrity check
      </button>
      {checking && <Loading what="Checking" />}
      {problem && <Notice kind="error">{problem}</Notice>}
      {integrity &&
        (integrity.ok ? (
          <Notice kind="success">No problem found (checked {formatDateTime(integrity.checked_at)}).</Notice>
        ) : (
          <Notice kind="error">
            <p>{plural(integrity.problems.length, 'problem')} found:</p>
            <ul>
              {integrity.problems.map((p, i) => (
                <li key={i}>
                  {p.check}: {p.detail}
                </li>
              ))}
            </ul>
          </Notice>
        ))}
    </>
  );
}
