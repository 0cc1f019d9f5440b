// IMSI (3GPP TS 23.003 §2.2): MCC (3) + MNC (2-3) + MSIN, at most 15 digits.
// Subscriber keys accept the 14-15 digit IMSIs real networks issue; shorter
// ones are legal on paper but in practice mark a truncated/garbled field.

export function isValidImsi(digits: string): boolean {
  return /^\d{14,15}$/.test(digits);
}

/** IMSI digits with separators removed, or undefined when not a valid IMSI. */
export function normalizeImsi(input: string): string | undefined {
  const d = input.replace(/[\s-]/g, '');
  return isValidImsi(d) ? d : undefined;
}
