import { useState, type FormEvent } from 'react';
import { describeError } from './downloads/api';
import { formatBytes, formatDateTime, formatDuration, formatRelative, shortId } from './downloads/format';
import type { FileResult } from './downloads/types';
import { useDownloads, type DownloadView, type UseDownloads } from './downloads/useDownloads';
import { parseCallbackUrl, parseFileIds } from './downloads/validation';

const EXAMPLE_IDS = '70000, 70007, 70014, 70001';

export default function App() {
  const downloads = useDownloads();
  const { jobs, mode, transport } = downloads;

  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <svg className="logo" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M12 3v12m0 0-5-5m5 5 5-5M4 19h16" />
          </svg>
          <h1>Downloads</h1>
        </div>
        <span className={`connection connection-${mode}`} data-testid="connection-transport" title="How updates reach this page">
          <span className="dot" aria-hidden="true" />
          {transport}
        </span>
      </header>

      <main className="content">
        <StartForm start={downloads.start} />
        <section className="jobs" aria-label="Download jobs">
          {jobs.length === 0 ? (
            <p className="empty">No download jobs yet. Enter some file ids and press Start.</p>
          ) : (
            jobs.map((job) => <JobCard key={job.jobId} job={job} actions={downloads} />)
          )}
        </section>
      </main>
    </div>
  );
}

function requestNotificationPermission(): void {
  // Browsers only ask from a user gesture: this runs in the Start button's click handler.
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
  try {
    void Promise.resolve(Notification.requestPermission()).catch(() => undefined);
  } catch {
    // Older browsers: callback-only API, or not allowed here.
  }
}

function StartForm({ start }: { start: UseDownloads['start'] }) {
  const [fileIdsText, setFileIdsText] = useState(EXAMPLE_IDS);
  const [callbackText, setCallbackText] = useState('');
  const [errors, setErrors] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) return;
    const ids = parseFileIds(fileIdsText);
    const callback = parseCallbackUrl(callbackText);
    const problems = [ids.ok ? null : ids.error, callback.ok ? null : callback.error].filter((e): e is string => !!e);
    if (!ids.ok || !callback.ok) {
      setErrors(problems);
      return;
    }
    setErrors([]);
    setSubmitting(true);
    try {
      await start(ids.value, callback.value);
    } catch (error) {
      setErrors(describeError(error, ids.value));
    } finally {
      setSubmitting(false);
    }
  }

  const invalid = errors.length > 0;
  return (
    <form className="start-form card" onSubmit={onSubmit} noValidate>
      <div className="field grow">
        <label htmlFor="file-ids">File ids</label>
        <input
          id="file-ids"
          data-testid="file-ids-input"
          type="text"
          inputMode="numeric"
          autoComplete="off"
          spellCheck={false}
          value={fileIdsText}
          onChange={(e) => setFileIdsText(e.target.value)}
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? 'form-error' : 'file-ids-hint'}
          placeholder={EXAMPLE_IDS}
        />
        <small id="file-ids-hint">Comma or space separated, 10000–100000000, up to 1000.</small>
      </div>
      <div className="field grow">
        <label htmlFor="callback-url">
          Callback URL <span className="optional">(optional)</span>
        </label>
        <input
          id="callback-url"
          data-testid="callback-url-input"
          type="url"
          autoComplete="off"
          spellCheck={false}
          value={callbackText}
          onChange={(e) => setCallbackText(e.target.value)}
          placeholder="https://example.com/webhook"
        />
      </div>
      <div className="field submit">
        <button type="submit" className="primary" data-testid="start-button" disabled={submitting} onClick={requestNotificationPermission}>
          {submitting ? 'Starting…' : 'Start'}
        </button>
      </div>
      {invalid && (
        <div className="form-error" id="form-error" role="alert" data-testid="form-error">
          {errors.length === 1 ? (
            <p>{errors[0]}</p>
          ) : (
            <>
              <p>{errors[0]}</p>
              <ul>
                {errors.slice(1).map((e, i) => (
                  <li key={i}>{e}</li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </form>
  );
}

function etaText(job: DownloadView): string {
  if (job.lost) return '—';
  switch (job.status) {
    case 'processing':
      if (job.etaSeconds === null) return 'estimating…';
      return job.etaSeconds < 3 ? 'a few seconds' : `about ${formatDuration(job.etaSeconds)}`;
    case 'queued':
      return 'waiting to start';
    case 'paused':
      return 'paused';
    default:
      return 'done';
  }
}

function JobCard({ job, actions }: { job: DownloadView; actions: UseDownloads }) {
  const percent = Math.round(job.percent);
  const statusText = job.lost ? 'not found' : job.status;
  const expires = job.expiresAt ? `${formatDateTime(job.expiresAt)} (${formatRelative(job.expiresAt, Date.now())})` : '—';
  return (
    <article
      className={`job-card card status-${job.status}${job.lost ? ' lost' : ''}`}
      data-testid="job-card"
      data-job-id={job.jobId}
      data-status={job.status}
      aria-label={`Job ${shortId(job.jobId)}`}
    >
      <div className="job-head">
        <div className="job-title">
          <h2 title={job.jobId}>
            Job <code>{shortId(job.jobId)}</code>
          </h2>
          <span className={`badge badge-${job.lost ? 'lost' : job.status}`} data-testid="job-status">
            {statusText}
          </span>
        </div>
        <div className="job-actions">
          <button type="button" data-testid="pause-button" disabled={!job.canPause} onClick={() => void actions.pause(job.jobId)}>
            {job.busy === 'pause' ? 'Pausing…' : 'Pause'}
          </button>
          <button type="button" data-testid="resume-button" disabled={!job.canResume} onClick={() => void actions.resume(job.jobId)}>
            {job.busy === 'resume' ? 'Resuming…' : 'Resume'}
          </button>
          <button type="button" className="danger" data-testid="cancel-button" disabled={!job.canCancel} onClick={() => void actions.cancel(job.jobId)}>
            {job.busy === 'cancel' ? 'Cancelling…' : 'Cancel'}
          </button>
          {job.archiveUrl && (
            <a className="button" data-testid="download-all-link" href={job.archiveUrl} download title="One ZIP of the completed files">
              Download all
            </a>
          )}
          {(job.canRetry || job.busy === 'retry') && (
            <button
              type="button"
              data-testid="retry-button"
              disabled={!job.canRetry}
              onClick={() => void actions.retry(job.jobId)}
              title="Start a new job of the failed files"
            >
              {job.busy === 'retry' ? 'Retrying…' : 'Retry failed'}
            </button>
          )}
          {job.ended && (
            <button type="button" data-testid="dismiss-button" onClick={() => actions.dismiss(job.jobId)}>
              Dismiss
            </button>
          )}
        </div>
      </div>

      <div
        className="progress"
        role="progressbar"
        aria-label="Job progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        data-testid="job-progress"
      >
        <div className="progress-bar" style={{ width: `${percent}%` }} />
      </div>

      <dl className="job-meta">
        <div>
          <dt>Files</dt>
          <dd data-testid="job-counts">
            {job.completed} of {job.total} ready{job.failed ? `, ${job.failed} failed` : ''} · {percent}%
          </dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd data-testid="job-eta">{etaText(job)}</dd>
        </div>
        <div>
          <dt>Updates</dt>
          <dd data-testid="job-transport">{job.ended && !job.transport ? '—' : job.transportLabel}</dd>
        </div>
        <div>
          <dt>Links expire</dt>
          <dd data-testid="job-expires">{expires}</dd>
        </div>
        {job.retryOf && (
          <div>
            <dt>Retry of</dt>
            <dd data-testid="job-retry-of" title={job.retryOf}>
              Job <code>{shortId(job.retryOf)}</code>
            </dd>
          </div>
        )}
        {job.webhook && (
          <div>
            <dt>Webhook</dt>
            <dd data-testid="job-webhook">
              {job.webhook.status}
              {job.webhook.attempts ? ` (${job.webhook.attempts} attempt${job.webhook.attempts === 1 ? '' : 's'})` : ''}
            </dd>
          </div>
        )}
      </dl>

      {job.error && (
        <p className="job-error" role="alert" data-testid="job-error">
          {job.error}
        </p>
      )}

      <FileTable job={job} />
    </article>
  );
}

function FileTable({ job }: { job: DownloadView }) {
  if (!job.results.length) {
    return <p className="files-empty">{job.lost ? 'No file details.' : 'Loading files…'}</p>;
  }
  return (
    <table className="files">
      <thead>
        <tr>
          <th scope="col">File</th>
          <th scope="col">Status</th>
          <th scope="col">Size</th>
          <th scope="col">Attempts</th>
          <th scope="col">Error</th>
          <th scope="col">
            <span className="sr-only">Download</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {job.results.map((file) => (
          <FileRow key={file.file_id} file={file} />
        ))}
      </tbody>
    </table>
  );
}

function FileRow({ file }: { file: FileResult }) {
  const ready = file.status === 'completed' && !!file.download_url;
  return (
    <tr data-testid="file-row" data-file-id={file.file_id} data-status={file.status}>
      <td data-label="File">
        <code>{file.file_id}</code>
      </td>
      <td data-label="Status">
        <span className={`badge small badge-${file.status}`}>{file.status}</span>
      </td>
      <td data-label="Size">{formatBytes(file.size)}</td>
      <td data-label="Attempts">{file.attempts ?? '—'}</td>
      {file.error || file.error_code ? (
        <td data-label="Error" className="file-error" title={file.error_code ?? undefined}>
          {file.error || file.error_code}
        </td>
      ) : (
        <td data-label="Error" className="file-error none">
          <span className="muted">—</span>
        </td>
      )}
      <td data-label="Download" className="file-link">
        {ready ? (
          <a data-testid="download-link" href={file.download_url!} download title={file.sha256 ? `SHA-256 ${file.sha256}` : undefined}>
            Download
          </a>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}
