// What the page says about a failed call: the service's problem details, in words for people.
import { ApiError } from '@downloads/client';

function fieldLabel(key: string, fileIds: readonly number[]): string {
  const m = /^file_ids\[(\d+)\]$/i.exec(key);
  if (m) {
    const index = Number(m[1]);
    const id = fileIds[index];
    return id === undefined ? `File #${index + 1}` : `File ${id}`;
  }
  if (/^file_ids$/i.test(key)) return 'File ids';
  if (/^callback_url$/i.test(key)) return 'Callback URL';
  if (!key || key === '$' || key === 'body') return 'Request';
  return key;
}

/** Human-readable lines for an error: the problem's detail, then one line per field error. */
export function describeError(error: unknown, fileIds: readonly number[] = []): string[] {
  if (error instanceof ApiError) {
    const p = error.problem;
    const lines: string[] = [];
    const errors = p?.errors && typeof p.errors === 'object' ? Object.entries(p.errors) : [];
    const headline =
      error.status === 429
        ? `Too many requests${error.retryAfter !== null ? `: try again in ${error.retryAfter} s` : ''}.`
        : p?.detail || p?.title || `The server answered ${error.status}.`;
    if (!errors.length || p?.detail) lines.push(headline);
    else lines.push(p?.title || 'The request was not valid.');
    for (const [key, messages] of errors) {
      const list = Array.isArray(messages) ? messages : [String(messages)];
      for (const message of list) lines.push(`${fieldLabel(key, fileIds)}: ${message}`);
    }
    return lines;
  }
  if (error instanceof Error && error.message) {
    return [error.name === 'TypeError' ? 'Could not reach the download service.' : error.message];
  }
  return ['Something went wrong.'];
}
