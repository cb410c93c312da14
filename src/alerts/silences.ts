/** A silence: alerts of a rule (or of every rule), whose labels include these, send nothing until then. */
export interface Silence {
  id: string;
  /** null: every rule. */
  rule: string | null;
  /** Each must equal the alert's label of that name (e.g. { accountId: 'a_…' }); empty: any subject. */
  labels: Readonly<Record<string, string>>;
  /** Epoch ms. */
  until: number;
  comment: string;
  createdBy: string;
  createdAt: number;
}

export function covers(s: Silence, rule: string, labels: Readonly<Record<string, string>>, now: number): boolean {
  if (s.until <= now) return false;
  if (s.rule !== null && s.rule !== rule) return false;
  return Object.entries(s.labels).every(([name, value]) => labels[name] === value);
}
