// Client-side checks of the start form, mirroring the contract's rules.
export const MIN_FILE_ID = 10000;
export const MAX_FILE_ID = 100000000;
export const MAX_FILES = 1000;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseFileIds(text: string): Parsed<number[]> {
  const tokens = text.split(/[\s,;]+/).filter(Boolean);
  if (!tokens.length) return { ok: false, error: 'Enter at least one file id.' };
  if (tokens.length > MAX_FILES) return { ok: false, error: `At most ${MAX_FILES} file ids per job (got ${tokens.length}).` };
  const ids: number[] = [];
  const seen = new Set<number>();
  for (const token of tokens) {
    if (!/^\d+$/.test(token)) return { ok: false, error: `"${token}" is not a whole number.` };
    const id = Number(token);
    if (id < MIN_FILE_ID || id > MAX_FILE_ID) {
      return { ok: false, error: `File id ${token} must be between ${MIN_FILE_ID} and ${MAX_FILE_ID}.` };
    }
    if (seen.has(id)) return { ok: false, error: `File id ${id} is listed twice.` };
    seen.add(id);
    ids.push(id);
  }
  return { ok: true, value: ids };
}

export function parseCallbackUrl(text: string): Parsed<string | undefined> {
  const value = text.trim();
  if (!value) return { ok: true, value: undefined };
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return { ok: true, value };
  } catch {
    // fall through
  }
  return { ok: false, error: 'The callback URL must be an absolute http or https URL.' };
}
