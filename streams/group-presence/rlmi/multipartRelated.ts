// multipart/related bodies (RFC 2387) as RFC 4662 NOTIFYs carry them: the
// root (start) part first, then the parts it references by Content-ID.
import { createHash } from 'node:crypto';

export interface BodyPart {
  /** Without the angle brackets. */
  contentId: string;
  contentType: string;
  body: string;
}

export interface MultipartBody {
  /** The full Content-Type header value (type, start, boundary). */
  contentType: string;
  body: string;
}

/** A boundary that does not occur in any part (derived from the content so equal bodies are byte-equal). */
function boundaryFor(parts: readonly BodyPart[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p.contentId).update('\u0000').update(p.body);
  let b = `gp-${h.digest('hex').slice(0, 24)}`;
  for (let i = 0; parts.some((p) => p.body.includes(`--${b}`)); i++) b = `gp-${i}-${b}`;
  return b;
}

export function renderMultipartRelated(parts: readonly BodyPart[], rootType: string): MultipartBody {
  if (parts.length === 0) throw new Error('a multipart/related body needs at least its root part');
  const boundary = boundaryFor(parts);
  const chunks: string[] = [];
  for (const p of parts) {
    chunks.push(`--${boundary}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${p.contentId}>\r\nContent-Type: ${p.contentType}\r\n\r\n${p.body}\r\n`);
  }
  chunks.push(`--${boundary}--\r\n`);
  return {
    contentType: `multipart/related;type="${rootType}";start="<${parts[0]!.contentId}>";boundary="${boundary}"`,
    body: chunks.join(''),
  };
}
